//! Who is calling, found once per request. Each contract's router authenticates its routes in
//! one layer ([`authenticate`]), which asks the contract how its credentials look
//! ([`Authenticates`]), takes the caller's one rate-limit token, and hands the [`Principal`] on in
//! the request's extensions; the idempotency layer and the handler read it from there
//! ([`Caller`]), so no request authenticates twice.

use std::future::Future;
use std::marker::PhantomData;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::MethodRouter;
use disputes_domain::Version;
use disputes_ports::idempotency::Reservation;
use disputes_ports::{Conditions, Principal};

use crate::ops::RateGate;
use crate::shared::Problem;
use crate::SharedState;

/// A wire contract as the layers around its handlers see it: how it shows a failure.
pub trait ErrorShape: Send + Sync + 'static {
    /// `problem` in the contract's error shape, as the request's `headers` ask for it.
    fn render(headers: &HeaderMap, problem: Problem) -> Response;
}

/// A contract whose callers authenticate with request headers.
pub trait Authenticates: ErrorShape {
    /// The caller the request's headers name, and the rate-limit bucket it draws from; a
    /// [`Problem`] (401, 403) when they name none who may use this contract, or (403) when the
    /// caller may not make a request of this `method`.
    fn authenticate(
        state: &SharedState,
        method: &Method,
        headers: &HeaderMap,
    ) -> impl Future<Output = Result<(Principal, String), Problem>> + Send;
}

/// `route` behind contract `C`'s authentication layer. A request whose method the route does
/// not serve gets its 405 without being authenticated, as an unknown route gets its 404.
pub fn authenticated<C: Authenticates>(
    state: &SharedState,
    route: MethodRouter<SharedState>,
) -> MethodRouter<SharedState> {
    route.route_layer(middleware::from_fn_with_state(
        state.clone(),
        authenticate::<C>,
    ))
}

/// The layer every route of contract `C` runs behind: authenticates the request and takes one
/// token from the caller's rate-limit bucket, or answers in `C`'s error shape.
pub async fn authenticate<C: Authenticates>(
    State(state): State<SharedState>,
    mut request: Request,
    next: Next,
) -> Response {
    let admitted = match C::authenticate(&state, request.method(), request.headers()).await {
        Ok((principal, bucket)) => RateGate::of(request.extensions())
            .admit(&bucket)
            .map(|()| principal),
        Err(problem) => Err(problem),
    };
    match admitted {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(problem) => C::render(request.headers(), problem),
    }
}

/// The caller of a request of contract `C`, as [`authenticate`] found it, and the idempotency
/// key the request holds (when it carries one and the idempotency layer reserved it): what a
/// handler hands to the use case it runs.
#[derive(Debug)]
pub struct Caller<C> {
    pub principal: Principal,
    pub key: Option<Reservation>,
    contract: PhantomData<C>,
}

impl<C> Caller<C> {
    /// The key to pass to a use case that opens a dispute.
    pub fn key(&self) -> Option<&Reservation> {
        self.key.as_ref()
    }

    /// What a change this caller asks for is bound to: the version it saw, and its key.
    pub fn conditions(&self, expected: Option<Version>) -> Conditions<'_> {
        Conditions {
            expected,
            key: self.key(),
        }
    }
}

impl<C: ErrorShape, S: Send + Sync> FromRequestParts<S> for Caller<C> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(principal) = parts.extensions.get::<Principal>().cloned() else {
            // Only a route outside its contract's authentication layer gets here: our fault.
            return Err(C::render(
                &parts.headers,
                Problem::internal(&"a handler ran without its contract's authentication layer"),
            ));
        };
        Ok(Caller {
            principal,
            key: parts.extensions.get::<Reservation>().cloned(),
            contract: PhantomData,
        })
    }
}
