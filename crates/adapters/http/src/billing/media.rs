//! JSON or XML, both ways: requests by `Content-Type`, answers by `Accept`. XML input is bounded
//! in size (the body limit) and depth, and a document type declaration is refused outright, so no
//! entity is ever declared, let alone expanded.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use quick_xml::escape::{escape, resolve_predefined_entity};
use quick_xml::events::Event;
use quick_xml::Reader;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::codes;
use super::BillingError;
use crate::shared::Problem;

/// How deep elements may nest in an XML request. The contract's documents need four levels; the
/// margin is for clients that wrap them.
pub const MAX_XML_DEPTH: usize = 32;

/// How an answer is written, chosen by the request's `Accept`: XML when the client prefers
/// `application/xml` or `text/xml` over JSON, JSON otherwise (the contract's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    /// XML, with the media type the client asked for.
    Xml(&'static str),
}

const JSON: &str = "application/json";
const XML_TYPES: [&str; 2] = ["application/xml", "text/xml"];

impl Format {
    pub fn of(headers: &HeaderMap) -> Format {
        let Some(accept) = headers.get(ACCEPT).and_then(|h| h.to_str().ok()) else {
            return Format::Json;
        };
        let json = preference(accept, JSON);
        let xml = XML_TYPES
            .iter()
            .map(|media| (preference(accept, media), *media))
            .max_by_key(|(p, _)| *p);
        match xml {
            // A tie goes to JSON, the default.
            Some((xml, media)) if xml.0 > 0 && xml > json => Format::Xml(media),
            _ => Format::Json,
        }
    }

    /// Maps a failure to this contract's error, rendered in this format.
    pub fn error<E: Into<Problem>>(self) -> impl FnOnce(E) -> BillingError {
        move |e| BillingError::new(e.into(), self)
    }

    /// An answer with `body` as JSON, or as XML under a `root` element; either way written from
    /// its JSON value, whose keys come in alphabetical order.
    pub fn answer(self, status: StatusCode, root: &str, body: &impl Serialize) -> Response {
        match serde_json::to_value(body) {
            Ok(value) => self.render(status, root, &[], &value),
            // Answers are plain data with string keys; if one ever failed, it is a fault of ours.
            Err(e) => BillingError::new(Problem::internal(&e), self).into_response(),
        }
    }

    /// [`answer`](Self::answer), with `attributes` on the XML root element.
    pub fn render(
        self,
        status: StatusCode,
        root: &str,
        attributes: &[(&str, &str)],
        body: &Value,
    ) -> Response {
        let (media, text) = match self {
            Format::Json => (JSON, body.to_string()),
            Format::Xml(media) => (media, to_xml(root, attributes, body)),
        };
        (
            status,
            [(CONTENT_TYPE, HeaderValue::from_static(media))],
            text,
        )
            .into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Format {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Format::of(&parts.headers))
    }
}

/// How much `accept` wants `media`: the q-value of the most specific range that matches it, and
/// that specificity (2 exact, 1 `type/*`, 0 `*/*`), so that a type named outright beats one
/// reached through a wildcard at the same q. Unparsable q-values count as 1, as lenient servers
/// do; `(0, 0)` when nothing matches.
fn preference(accept: &str, media: &str) -> (u16, u8) {
    let (kind, _) = media.split_once('/').unwrap_or((media, ""));
    accept
        .split(',')
        .filter_map(|range| {
            let mut parts = range.split(';');
            let range = parts.next()?.trim().to_ascii_lowercase();
            let specificity = if range == media {
                2
            } else if range.strip_suffix("/*") == Some(kind) {
                1
            } else if range == "*/*" {
                0
            } else {
                return None;
            };
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            // Thousandths, as RFC 9110 allows no finer q-values.
            let q = (q.clamp(0.0, 1.0) * 1000.0).round() as u16;
            Some((specificity, q))
        })
        .max()
        .map_or((0, 0), |(specificity, q)| (q, specificity))
}

/// A request body of this contract: JSON or XML by `Content-Type`, parsed into `T`. Rejections
/// come in the contract's error shape and in the format the client accepts.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T, S> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = BillingError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let format = Format::of(request.headers());
        let syntax = body_syntax(request.headers()).map_err(format.error())?;
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Problem::new(
                        codes::PAYLOAD_TOO_LARGE,
                        "the body is larger than this contract accepts (1 MiB)",
                    )
                } else {
                    Problem::new(codes::INVALID_BODY, rejection.body_text())
                }
            })
            .map_err(format.error())?;
        let value = match syntax {
            Syntax::Json => from_json(&bytes),
            Syntax::Xml => from_xml(&bytes),
        };
        value.map(Body).map_err(format.error())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    Json,
    Xml,
}

/// The body's syntax by its `Content-Type` (parameters such as `charset` aside): JSON for
/// `application/json` and `+json` types, XML for `application/xml`, `text/xml` and `+xml` types.
fn body_syntax(headers: &HeaderMap) -> Result<Syntax, Problem> {
    let media = headers
        .get(CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if media == JSON || (media.starts_with("application/") && media.ends_with("+json")) {
        Ok(Syntax::Json)
    } else if XML_TYPES.contains(&media.as_str()) || media.ends_with("+xml") {
        Ok(Syntax::Xml)
    } else {
        Err(Problem::new(codes::UNSUPPORTED_MEDIA_TYPE, "the body must be JSON (Content-Type: application/json) or XML (application/xml or text/xml)",
        ))
    }
}

/// Parses a JSON body into `T`: it must be an object, and a field of the wrong shape is named
/// by its path, as in XML (serde's own message would name our Rust type).
fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        Problem::new(
            codes::MALFORMED_JSON,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    if !value.is_object() {
        return Err(Problem::new(
            codes::INVALID_BODY,
            "the body must be a JSON object",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        Problem::new(
            codes::INVALID_BODY,
            format!(
                "the body does not have the expected shape: {}: {}",
                e.path(),
                e.inner()
            ),
        )
    })
}

/// Parses an XML body into `T` once [`check_xml`] passed it. Elements are the fields; repeated
/// elements are the items of a list; the root element's name is not checked.
fn from_xml<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let text = std::str::from_utf8(bytes).map_err(|_| malformed_xml("the body is not UTF-8"))?;
    check_xml(text)?;
    let mut deserializer = quick_xml::de::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        match e.into_inner() {
            quick_xml::DeError::InvalidXml(e) => malformed_xml(&e.to_string()),
            quick_xml::DeError::UnexpectedEof => malformed_xml("the document ends too early"),
            e => Problem::new(
                codes::INVALID_BODY,
                format!("the body does not have the expected shape: {path}: {e}"),
            ),
        }
    })
}

fn malformed_xml(why: &str) -> Problem {
    Problem::new(
        codes::MALFORMED_XML,
        format!("the body is not well-formed XML: {why}"),
    )
}

/// Reads the whole document once, before anything is deserialized: it must be well-formed, with
/// exactly one root element and no text outside it (a second document after the first is not
/// ignored, it is refused), nest at most [`MAX_XML_DEPTH`] elements deep, declare no document
/// type (so no entity, internal or external: an entity bomb is refused at its first line) and
/// refer to no entity but XML's five predefined ones and character references. One linear pass
/// over at most the body limit.
fn check_xml(text: &str) -> Result<(), Problem> {
    let mut reader = Reader::from_str(text);
    let mut depth = 0usize;
    let mut roots = 0usize;
    let mut one_root = |depth: usize| {
        if depth == 0 {
            roots += 1;
            if roots > 1 {
                return Err(malformed_xml(
                    "a document has one root element, this one more",
                ));
            }
        }
        Ok(())
    };
    let too_deep = || {
        Problem::new(
            codes::XML_TOO_DEEP,
            format!("XML elements may nest at most {MAX_XML_DEPTH} deep"),
        )
    };
    loop {
        match reader.read_event() {
            Err(e) => return Err(malformed_xml(&e.to_string())),
            Ok(Event::DocType(_)) => return Err(Problem::new(
                codes::XML_DOCTYPE_REFUSED,
                "document type declarations are refused: no entity is ever declared or expanded",
            )),
            Ok(Event::Start(_)) => {
                one_root(depth)?;
                depth += 1;
                if depth > MAX_XML_DEPTH {
                    return Err(too_deep());
                }
            }
            Ok(Event::Empty(_)) if depth + 1 > MAX_XML_DEPTH => return Err(too_deep()),
            Ok(Event::Empty(_)) => one_root(depth)?,
            Ok(Event::Text(text)) if depth == 0 && !text.iter().all(u8::is_ascii_whitespace) => {
                return Err(malformed_xml("there is text outside the root element"));
            }
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::GeneralRef(reference)) => {
                let known = if reference.is_char_ref() {
                    matches!(reference.resolve_char_ref(), Ok(Some(_)))
                } else {
                    reference
                        .decode()
                        .is_ok_and(|name| resolve_predefined_entity(&name).is_some())
                };
                if !known {
                    return Err(malformed_xml("it refers to an undeclared entity"));
                }
            }
            Ok(Event::Eof) => return Ok(()),
            Ok(_) => {}
        }
    }
}

/// `value` as an XML document under `root` (with `attributes` on it): an object's fields are
/// elements in the object's key order, a list repeats its field's element once per item, `null`
/// leaves the element out, and text is escaped.
pub fn to_xml(root: &str, attributes: &[(&str, &str)], value: &Value) -> String {
    let mut out = String::from(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    out.push('<');
    out.push_str(root);
    for (name, value) in attributes {
        out.push_str(&format!(r#" {name}="{}""#, escape(*value)));
    }
    out.push('>');
    match value {
        Value::Object(fields) => {
            for (name, value) in fields {
                element(&mut out, name, value);
            }
        }
        other => out.push_str(&escape(scalar_text(other))),
    }
    out.push_str(&format!("</{root}>"));
    out
}

fn element(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Null => {}
        Value::Array(items) => items.iter().for_each(|item| element(out, name, item)),
        Value::Object(fields) => {
            out.push_str(&format!("<{name}>"));
            for (field, value) in fields {
                element(out, field, value);
            }
            out.push_str(&format!("</{name}>"));
        }
        scalar => out.push_str(&format!("<{name}>{}</{name}>", escape(scalar_text(scalar)))),
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        // Numbers keep their literal text (arbitrary precision), so 12345678901234567.89 stays.
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn accept(value: &str) -> Format {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_str(value).unwrap());
        Format::of(&headers)
    }

    #[test]
    fn accept_picks_xml_only_when_preferred() {
        assert_eq!(Format::of(&HeaderMap::new()), Format::Json);
        assert_eq!(accept("application/xml"), Format::Xml("application/xml"));
        assert_eq!(accept("text/xml"), Format::Xml("text/xml"));
        assert_eq!(
            accept("application/XML; charset=utf-8"),
            Format::Xml("application/xml")
        );
        assert_eq!(accept("*/*"), Format::Json);
        assert_eq!(accept("application/json, application/xml"), Format::Json);
        assert_eq!(
            accept("application/xml, */*;q=0.8"),
            Format::Xml("application/xml")
        );
        assert_eq!(
            accept("application/xml, */*"),
            Format::Xml("application/xml")
        );
        assert_eq!(
            accept("application/json;q=0.5, application/xml;q=0.9"),
            Format::Xml("application/xml")
        );
        assert_eq!(accept("application/xml;q=0, */*"), Format::Json);
        assert_eq!(accept("text/html"), Format::Json);
    }

    fn content(value: &str) -> Result<Syntax, Problem> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
        body_syntax(&headers)
    }

    #[test]
    fn content_type_picks_the_syntax() {
        assert_eq!(content("application/json"), Ok(Syntax::Json));
        assert_eq!(content("application/json; charset=utf-8"), Ok(Syntax::Json));
        assert_eq!(content("application/vnd.oracle+json"), Ok(Syntax::Json));
        assert_eq!(content("application/xml"), Ok(Syntax::Xml));
        assert_eq!(content("Text/XML;charset=UTF-8"), Ok(Syntax::Xml));
        for other in ["text/plain", "application/x-www-form-urlencoded", ""] {
            assert_eq!(
                content(other).unwrap_err().code.name,
                "unsupported_media_type"
            );
        }
        assert_eq!(
            body_syntax(&HeaderMap::new()).unwrap_err().status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
    }

    #[test]
    fn xml_is_checked_before_it_is_read() {
        assert!(check_xml("<?xml version=\"1.0\"?><a><b>x &amp; &#65; &lt;</b><c/></a>").is_ok());
        let code = |xml: &str| check_xml(xml).unwrap_err().code.name;
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>"#;
        assert_eq!(code(bomb), "xml_doctype_refused");
        let external = r#"<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>"#;
        assert_eq!(code(external), "xml_doctype_refused");
        assert_eq!(code("<a>&undeclared;</a>"), "malformed_xml");
        assert_eq!(code("<a><b></a>"), "malformed_xml");
        let deep = |n: usize| format!("{}{}", "<a>".repeat(n), "</a>".repeat(n));
        assert!(check_xml(&deep(MAX_XML_DEPTH)).is_ok());
        assert_eq!(code(&deep(MAX_XML_DEPTH + 1)), "xml_too_deep");
        let deep_empty = format!("{}<b/>{}", "<a>".repeat(32), "</a>".repeat(32));
        assert_eq!(code(&deep_empty), "xml_too_deep");
        // One root element, nothing but space and comments around it.
        assert!(check_xml("\n <!-- c --> <a><b/></a>\n").is_ok());
        assert!(check_xml("<a/>").is_ok());
        assert_eq!(code("<a>1</a><a>2</a>"), "malformed_xml");
        assert_eq!(code("<a/><b/>"), "malformed_xml");
        assert_eq!(code("<a>1</a>trailing"), "malformed_xml");
        assert_eq!(code("leading<a>1</a>"), "malformed_xml");
    }

    #[test]
    fn values_become_xml_elements() {
        let value = json!({
            "extension": null,
            "amount": "12345678901234567.89".parse::<serde_json::Number>().unwrap(),
            "notes": { "comments": [{ "comment": "a < b & c" }, { "comment": "two" }] },
        });
        assert_eq!(
            to_xml("resource", &[("xmlns:o", "urn:x")], &value),
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8"?><resource xmlns:o="urn:x">"#,
                "<amount>12345678901234567.89</amount>",
                "<notes><comments><comment>a &lt; b &amp; c</comment></comments>",
                "<comments><comment>two</comment></comments></notes>",
                "</resource>"
            )
        );
    }
}
