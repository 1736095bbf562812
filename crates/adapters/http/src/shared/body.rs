use std::marker::PhantomData;

use axum::extract::{FromRequest, Request};
use axum::response::IntoResponse;
use axum::Json;
use serde::de::DeserializeOwned;

use super::Problem;

/// A wire contract: it renders every [`Problem`] in its own error shape.
pub trait Contract: Send + Sync + 'static {
    type Error: From<Problem> + IntoResponse + Send;
}

/// A JSON body whose rejections (wrong content type, bad syntax, wrong shape, too large) are
/// answered in contract `C`'s error shape instead of axum's plain text.
#[derive(Debug)]
pub struct JsonBody<T, C>(pub T, pub PhantomData<C>);

impl<T, C, S> FromRequest<S> for JsonBody<T, C>
where
    T: DeserializeOwned,
    C: Contract,
    S: Send + Sync,
{
    type Rejection = C::Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(JsonBody(value, PhantomData)),
            Err(rejection) => Err(Problem::from(rejection).into()),
        }
    }
}
