//! The SMS gateway: Indian bulk-SMS gateways take a message as HTTP parameters — the number, the
//! text, the DLT sender id and template id, an API key — by GET query, form POST or JSON POST,
//! each under its own names. [`SmsGateway`] holds that form; [`SmsGateway::request`] builds the
//! request a message becomes (no I/O), [`send`] sends it once and reads the gateway's message id.

use std::time::Duration;

use url::Url;

use crate::config::Secret;

/// How the parameters travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET url?to=…&text=…`
    Get,
    /// `POST` `application/x-www-form-urlencoded`.
    PostForm,
    /// `POST` a flat JSON object of the parameters.
    PostJson,
}

/// How the gateway wants the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberFormat {
    /// `+919816012345`
    E164,
    /// `919816012345`
    CountryCode,
    /// `9816012345`
    National,
}

/// How the gateway's API key is sent.
#[derive(Debug, Clone)]
pub enum Credential {
    /// As one more parameter, e.g. `apikey`.
    Param { name: String, value: Secret },
    /// As a header, e.g. `Authorization: Bearer …` (the value as given).
    Header { name: String, value: Secret },
}

/// The parameters' names at this gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamNames {
    pub to: String,
    pub text: String,
    pub sender: String,
    pub template_id: String,
}

impl Default for ParamNames {
    fn default() -> Self {
        ParamNames {
            to: "to".into(),
            text: "text".into(),
            sender: "sender".into(),
            template_id: "template_id".into(),
        }
    }
}

/// Where the gateway's message id is in its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageId {
    /// The whole body, trimmed.
    Body,
    /// A JSON pointer into a JSON body, e.g. `/data/0/id`; a 2xx answer without it is a failure
    /// (gateways that answer 200 with an error in the body).
    JsonPointer(String),
}

/// A configured gateway.
#[derive(Debug, Clone)]
pub struct SmsGateway {
    pub url: Url,
    pub method: Method,
    pub names: ParamNames,
    /// Fixed parameters, e.g. the DLT entity id (`entity_id`), `unicode=1`.
    pub extra: Vec<(String, String)>,
    pub credential: Option<Credential>,
    pub number_format: NumberFormat,
    pub message_id: MessageId,
}

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    /// `+91` and 10 digits.
    pub to: &'a str,
    pub text: &'a str,
    pub sender_id: &'a str,
    pub dlt_template_id: &'a str,
}

/// The request a message becomes. Its `Debug` shows no credential.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    /// With the query for [`Method::Get`].
    pub url: Url,
    /// The parameters for the POST methods (empty for GET).
    pub params: Vec<(String, String)>,
    pub headers: Vec<(String, Secret)>,
}

impl SmsGateway {
    fn number(&self, e164: &str) -> String {
        match self.number_format {
            NumberFormat::E164 => e164.to_owned(),
            NumberFormat::CountryCode => e164.trim_start_matches('+').to_owned(),
            NumberFormat::National => e164.strip_prefix("+91").unwrap_or(e164).to_owned(),
        }
    }

    /// The request for `message` (no I/O).
    pub fn request(&self, message: &Message<'_>) -> Request {
        let mut params = vec![
            (self.names.to.clone(), self.number(message.to)),
            (self.names.text.clone(), message.text.to_owned()),
            (self.names.sender.clone(), message.sender_id.to_owned()),
            (
                self.names.template_id.clone(),
                message.dlt_template_id.to_owned(),
            ),
        ];
        params.extend(self.extra.iter().cloned());
        let mut headers = Vec::new();
        match &self.credential {
            Some(Credential::Param { name, value }) => {
                params.push((name.clone(), value.expose().to_owned()));
            }
            Some(Credential::Header { name, value }) => headers.push((name.clone(), value.clone())),
            None => {}
        }
        let mut url = self.url.clone();
        if self.method == Method::Get {
            url.query_pairs_mut().extend_pairs(params.iter());
            params.clear();
        }
        Request {
            method: self.method,
            url,
            params,
            headers,
        }
    }

    /// The gateway's message id in a 2xx answer's `body`, or what is wrong with the answer.
    pub fn message_id(&self, body: &str) -> Result<String, String> {
        let id = match &self.message_id {
            MessageId::Body => body.trim().to_owned(),
            MessageId::JsonPointer(pointer) => {
                let json: serde_json::Value = serde_json::from_str(body).map_err(|e| {
                    format!("the gateway's answer is not JSON ({e}): {}", clip(body))
                })?;
                match json.pointer(pointer) {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(serde_json::Value::Number(n)) => n.to_string(),
                    _ => {
                        return Err(format!(
                            "the gateway's answer has no message id at {pointer}: {}",
                            clip(body)
                        ));
                    }
                }
            }
        };
        if id.is_empty() {
            return Err("the gateway answered without a message id".to_owned());
        }
        Ok(clip(&id))
    }
}

/// At most 200 characters of a remote answer, control characters dropped.
pub(crate) fn clip(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// One try's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// A 2xx with what the receiver said (the gateway's message id, `HTTP 204`).
    Delivered(String),
    Failed {
        error: String,
        /// No retry can mend it (the request itself was refused).
        permanent: bool,
    },
}

/// Whether an HTTP status means delivered, try again, or refused for good: 2xx delivered; 408,
/// 425, 429 and 5xx again; other 4xx refused (a bad request is refused every time).
pub fn classify(status: u16) -> Option<bool> {
    match status {
        200..=299 => None,
        408 | 425 | 429 => Some(false),
        400..=499 => Some(true),
        _ => Some(false),
    }
}

/// Sends one message through the gateway: one try, within `timeout`.
pub async fn send(
    http: &reqwest::Client,
    gateway: &SmsGateway,
    message: &Message<'_>,
    timeout: Duration,
) -> Sent {
    let request = gateway.request(message);
    let mut builder = match request.method {
        Method::Get => http.get(request.url),
        Method::PostForm => {
            let body: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(request.params.iter())
                .finish();
            http.post(request.url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
        }
        Method::PostJson => {
            let object: serde_json::Map<String, serde_json::Value> = request
                .params
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect();
            http.post(request.url).json(&object)
        }
    };
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.expose());
    }
    let answer = match builder.timeout(timeout).send().await {
        Ok(a) => a,
        Err(e) => {
            return Sent::Failed {
                error: format!("SMS gateway: {}", describe(&e)),
                permanent: false,
            };
        }
    };
    let status = answer.status().as_u16();
    let body = match answer.text().await {
        Ok(b) => b,
        Err(e) => {
            return Sent::Failed {
                error: format!(
                    "SMS gateway HTTP {status}: reading the answer: {}",
                    describe(&e)
                ),
                permanent: false,
            };
        }
    };
    match classify(status) {
        None => match gateway.message_id(&body) {
            Ok(id) => Sent::Delivered(id),
            Err(error) => Sent::Failed {
                error: format!("SMS gateway HTTP {status}: {error}"),
                permanent: false,
            },
        },
        Some(permanent) => Sent::Failed {
            error: format!("SMS gateway HTTP {status}: {}", clip(&body)),
            permanent,
        },
    }
}

/// A reqwest error without its URL (a GET gateway's URL holds the API key).
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    clip(&text)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn gateway() -> SmsGateway {
        SmsGateway {
            url: "http://127.0.0.1:1/send?route=dlt".parse().unwrap(),
            method: Method::Get,
            names: ParamNames {
                to: "mobile".into(),
                text: "message".into(),
                sender: "senderid".into(),
                template_id: "dlt_template_id".into(),
            },
            extra: vec![("entity_id".into(), "1101".into())],
            credential: Some(Credential::Param {
                name: "apikey".into(),
                value: Secret::new("k-123"),
            }),
            number_format: NumberFormat::National,
            message_id: MessageId::JsonPointer("/data/id".into()),
        }
    }

    const MESSAGE: Message<'static> = Message {
        to: "+919816012345",
        text: "शिकायत 2611020001 दर्ज",
        sender_id: "CMHLPL",
        dlt_template_id: "1107-hi",
    };

    #[test]
    fn a_get_gateway_gets_everything_in_the_query() {
        let r = gateway().request(&MESSAGE);
        let pairs: Vec<(String, String)> = r.url.query_pairs().into_owned().collect();
        assert_eq!(
            pairs,
            vec![
                ("route".into(), "dlt".into()),
                ("mobile".into(), "9816012345".into()),
                ("message".into(), "शिकायत 2611020001 दर्ज".into()),
                ("senderid".into(), "CMHLPL".into()),
                ("dlt_template_id".into(), "1107-hi".into()),
                ("entity_id".into(), "1101".into()),
                ("apikey".into(), "k-123".into()),
            ]
        );
        assert!(r.params.is_empty());
        assert!(!format!("{:?}", r.headers).contains("k-123"));
    }

    #[test]
    fn a_post_gateway_with_a_header_key() {
        let mut g = gateway();
        g.method = Method::PostForm;
        g.number_format = NumberFormat::CountryCode;
        g.credential = Some(Credential::Header {
            name: "Authorization".into(),
            value: Secret::new("Bearer k-123"),
        });
        let r = g.request(&MESSAGE);
        assert_eq!(r.url.as_str(), "http://127.0.0.1:1/send?route=dlt");
        assert_eq!(r.params[0], ("mobile".into(), "919816012345".into()));
        assert_eq!(r.headers.len(), 1);
        assert_eq!(r.headers[0].1.expose(), "Bearer k-123");
        assert!(!format!("{r:?}").contains("k-123"));
    }

    #[test]
    fn the_message_id_is_read_or_its_absence_is_a_failure() {
        let g = gateway();
        assert_eq!(g.message_id(r#"{"data":{"id":"m-77"}}"#), Ok("m-77".into()));
        assert_eq!(g.message_id(r#"{"data":{"id":42}}"#), Ok("42".into()));
        assert!(
            g.message_id(r#"{"status":"error","msg":"DLT template mismatch"}"#)
                .unwrap_err()
                .contains("DLT template mismatch")
        );
        assert!(g.message_id("<html>").is_err());
        let mut plain = gateway();
        plain.message_id = MessageId::Body;
        assert_eq!(plain.message_id(" abc-1\n"), Ok("abc-1".into()));
        assert!(plain.message_id("  ").is_err());
    }

    #[test]
    fn statuses_are_delivered_retried_or_refused() {
        assert_eq!(classify(200), None);
        assert_eq!(classify(204), None);
        assert_eq!(classify(500), Some(false));
        assert_eq!(classify(503), Some(false));
        assert_eq!(classify(429), Some(false));
        assert_eq!(classify(408), Some(false));
        assert_eq!(classify(400), Some(true));
        assert_eq!(classify(401), Some(true));
        assert_eq!(classify(301), Some(false), "a redirect is not delivered");
    }
}
