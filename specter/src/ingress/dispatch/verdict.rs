//! The ack rule, written once: a [`Verdict`] takes in what each subscriber did, in
//! order, and is at every moment what the ack would say if the dispatch ended there.
//! The ack, the span's outcome, the interceptors' outcome and the text that refuses a
//! connection are read off it; none of them decides anything.
//!
//! The rule: a `Reject` (or an interceptor's refusal) ends the fanout and is the answer; else
//! the last value; else the first failure; else `forbidden` when a guard skipped a
//! subscriber; else an empty ack. An event refused before any subscriber (rate limit,
//! unknown event) starts as [`Verdict::Refused`] and nothing changes it.

use std::sync::Arc;

use tracing::Span;

use crate::ingress::answer::Answer;
use crate::ingress::interceptor::DispatchOutcome;
use crate::subscriber::{AckError, ErrorKind, Failure, Reply};

/// What a dispatch's ack says so far.
#[derive(Default)]
pub(crate) enum Verdict {
    /// No subscriber answered, failed or was skipped.
    #[default]
    Nothing,
    /// A guard skipped the subscriber `owner`, the first one skipped, for `reason`.
    Forbidden { owner: Arc<str>, reason: String },
    /// The first failure, while no subscriber answered.
    Failed { owner: Arc<str>, failure: Failure },
    /// The last value a subscriber returned.
    Answered(Reply),
    /// A subscriber's `Reject` or an interceptor's refusal: final.
    Rejected { owner: Arc<str>, reason: String },
    /// Refused before any subscriber: final.
    Refused(AckError),
}

impl Verdict {
    /// A guard skipped `owner`: the answer only if nothing else happens.
    pub(crate) fn forbid(&mut self, owner: &Arc<str>, reason: String) {
        if let Verdict::Nothing = self {
            *self = Verdict::Forbidden {
                owner: owner.clone(),
                reason,
            };
        }
    }

    /// `owner` failed: the answer unless a value comes, or a failure came before.
    pub(crate) fn fail(&mut self, owner: &Arc<str>, failure: &Failure) {
        if let Verdict::Nothing | Verdict::Forbidden { .. } = self {
            *self = Verdict::Failed {
                owner: owner.clone(),
                failure: failure.clone(),
            };
        }
    }

    /// A subscriber returned a value: the answer unless a later one does.
    pub(crate) fn answer(&mut self, reply: Reply) {
        if !self.is_final() {
            *self = Verdict::Answered(reply);
        }
    }

    /// `owner` refused the event: the answer, and no other subscriber runs.
    pub(crate) fn reject(&mut self, owner: Arc<str>, reason: String) {
        if !self.is_final() {
            *self = Verdict::Rejected { owner, reason };
        }
    }

    /// Whether nothing may change the verdict: the fanout is over.
    pub(crate) fn is_final(&self) -> bool {
        matches!(self, Verdict::Rejected { .. } | Verdict::Refused(_))
    }

    /// Whether the event was refused before any subscriber.
    pub(crate) fn refused(&self) -> Option<&AckError> {
        match self {
            Verdict::Refused(error) => Some(error),
            _ => None,
        }
    }

    /// How the dispatch ended, for interceptors (which never see a refused event).
    pub(crate) fn outcome(&self) -> DispatchOutcome {
        match self {
            Verdict::Nothing => DispatchOutcome::Nothing,
            Verdict::Forbidden { .. } => DispatchOutcome::Forbidden,
            Verdict::Failed { failure, .. } => DispatchOutcome::Failed(failure.kind),
            Verdict::Answered(_) => DispatchOutcome::Answered,
            Verdict::Rejected { .. } => DispatchOutcome::Rejected,
            Verdict::Refused(error) => DispatchOutcome::Failed(error.kind),
        }
    }

    /// Records the verdict on the dispatch's span: `outcome` and, for an error, its
    /// `error_kind`.
    pub(crate) fn record(&self, span: &Span) {
        if span.is_disabled() {
            return;
        }
        let (outcome, kind) = match self {
            Verdict::Nothing => ("nothing", None),
            Verdict::Forbidden { .. } => ("forbidden", None),
            Verdict::Failed { failure, .. } => ("failed", Some(failure.kind)),
            Verdict::Answered(_) => ("answered", None),
            Verdict::Rejected { .. } => ("rejected", None),
            Verdict::Refused(error) => ("refused", Some(error.kind)),
        };
        span.record("outcome", outcome);
        if let Some(kind) = kind {
            span.record("error_kind", kind.as_str());
        }
    }

    /// The ack the client is owed.
    pub(crate) fn into_answer(self) -> Answer {
        match self {
            Verdict::Nothing => Answer::Empty,
            Verdict::Forbidden { owner, reason } => {
                Answer::Error(AckError::new(ErrorKind::Forbidden, reason).with_handler(&*owner))
            }
            Verdict::Failed { owner, failure } => {
                Answer::Error(AckError::from_failure(&owner, &failure))
            }
            Verdict::Answered(reply) => Answer::Reply(reply),
            Verdict::Rejected { owner, reason } => {
                Answer::Error(AckError::new(ErrorKind::Rejected, reason).with_handler(&*owner))
            }
            Verdict::Refused(error) => Answer::Error(error),
        }
    }

    /// What refuses a connection, when a `connect` subscriber failed or
    /// rejected it: the subscriber's owner and the text.
    pub(crate) fn connect_refusal(self) -> Option<(Arc<str>, String)> {
        match self {
            Verdict::Rejected { owner, reason } => Some((owner, reason)),
            Verdict::Failed { owner, failure } => Some((owner, failure.refusal())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(name: &str) -> Arc<str> {
        Arc::from(name)
    }

    fn failure() -> Failure {
        Failure::new(ErrorKind::Returned, "boom")
    }

    #[test]
    fn the_last_value_beats_every_failure_and_guard() {
        let mut v = Verdict::default();
        v.forbid(&owner("a"), "no".into());
        v.fail(&owner("b"), &failure());
        v.answer(Reply::new(1));
        v.fail(&owner("c"), &failure());
        assert_eq!(v.outcome(), DispatchOutcome::Answered);
    }

    #[test]
    fn the_first_failure_beats_a_guard_and_later_failures() {
        let mut v = Verdict::default();
        v.forbid(&owner("a"), "no".into());
        v.fail(&owner("b"), &failure());
        v.fail(&owner("c"), &Failure::new(ErrorKind::Panicked, "later"));
        match v {
            Verdict::Failed { owner, failure } => {
                assert_eq!(&*owner, "b");
                assert_eq!(failure.kind, ErrorKind::Returned);
            }
            _ => panic!("expected the first failure"),
        }
    }

    #[test]
    fn a_rejection_is_final() {
        let mut v = Verdict::default();
        v.answer(Reply::new(1));
        v.reject(owner("a"), "stop".into());
        v.answer(Reply::new(2));
        v.fail(&owner("b"), &failure());
        assert!(v.is_final());
        assert_eq!(
            v.connect_refusal().map(|(_, text)| text).as_deref(),
            Some("stop")
        );
    }

    #[test]
    fn a_guard_answers_only_when_nothing_else_did() {
        let mut v = Verdict::default();
        v.forbid(&owner("a"), "first".into());
        v.forbid(&owner("b"), "second".into());
        assert_eq!(v.outcome(), DispatchOutcome::Forbidden);
        assert!(v.connect_refusal().is_none());
    }
}
