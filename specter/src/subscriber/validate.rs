//! [`Valid<T>`]: the payload, deserialized and then validated with `garde` (feature
//! `validate`).

use garde::Validate;
use serde::de::DeserializeOwned;
use socketioxide::extract::Data;

use crate::subscriber::ack_error::FieldError;
use crate::subscriber::extract::{EventCtx, EventKinds, ExtractError, FromEvent};

/// The payload of an emitted event (or the auth payload of `connect`), deserialized
/// into `T` and validated by `T`'s `garde` rules. A payload that does not deserialize,
/// or breaks a rule, fails the subscriber with kind `invalid_payload`; for broken rules
/// the ack lists each field's path and message in `fields`.
///
/// ```
/// use specter::validate::Valid;
///
/// #[derive(serde::Deserialize, garde::Validate)]
/// struct Message {
///     #[garde(length(min = 1, max = 500))]
///     text: String,
/// }
///
/// fn message(Valid(m): Valid<Message>) -> String {
///     m.text // non-empty, at most 500 characters
/// }
/// # let (_layer, io) = specter::SocketIo::new_layer();
/// # specter::SocketIngress::new(io).on("message", message).owner("chat").subscribe().unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Valid<T>(pub T);

impl<T> FromEvent for Valid<T>
where
    T: DeserializeOwned + Validate,
    T::Context: Default,
{
    const KINDS: EventKinds = EventKinds::WITH_PAYLOAD;

    fn from_event(ctx: &mut EventCtx<'_>) -> Result<Self, ExtractError> {
        let Data(value) = Data::<T>::from_event(ctx).map_err(|e| e.for_extractor::<Self>())?;
        match value.validate_with(&T::Context::default()) {
            Ok(()) => Ok(Valid(value)),
            Err(report) => {
                let fields: Vec<FieldError> = report
                    .iter()
                    .map(|(path, error)| FieldError {
                        path: path.to_string(),
                        message: error.message().to_owned(),
                    })
                    .collect();
                let summary = fields
                    .iter()
                    .map(|f| match f.path.as_str() {
                        "" => f.message.clone(),
                        path => format!("{path}: {}", f.message),
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                Err(ExtractError::new::<Self>(summary).with_fields(fields))
            }
        }
    }
}
