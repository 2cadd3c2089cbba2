//! A call's life, as pure rules: `ringing → active → ended`, or from ringing to `missed`
//! (nobody answered in time), `declined` (by the callee) or `cancelled` (by the caller). Who may
//! do what: the caller cancels, the callee answers or declines, either ends, only the clock
//! makes a call missed.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    Ringing,
    Active,
    Ended,
    Missed,
    Declined,
    Cancelled,
}

impl CallStatus {
    pub const ALL: [CallStatus; 6] = [
        CallStatus::Ringing,
        CallStatus::Active,
        CallStatus::Ended,
        CallStatus::Missed,
        CallStatus::Declined,
        CallStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Ringing => "ringing",
            CallStatus::Active => "active",
            CallStatus::Ended => "ended",
            CallStatus::Missed => "missed",
            CallStatus::Declined => "declined",
            CallStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Ringing or active: the call holds both participants' lines (they are busy).
    pub fn is_live(self) -> bool {
        matches!(self, CallStatus::Ringing | CallStatus::Active)
    }
}

/// Audio only, or with video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallKind {
    Audio,
    Video,
}

impl CallKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CallKind::Audio => "audio",
            CallKind::Video => "video",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [CallKind::Audio, CallKind::Video].into_iter().find(|kind| kind.as_str() == text)
    }
}

/// Who acts on a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Caller,
    Callee,
    /// The ring timeout (or the longest-call limit), not a person.
    Clock,
}

impl Party {
    /// The side `user_id` is on in a call between `caller_id` and `callee_id`; `None` for a
    /// stranger.
    pub fn of(user_id: i64, caller_id: i64, callee_id: i64) -> Option<Self> {
        if user_id == caller_id {
            Some(Party::Caller)
        } else if user_id == callee_id {
            Some(Party::Callee)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallAction {
    Answer,
    Decline,
    Cancel,
    End,
    /// Nobody answered in time.
    Miss,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("only the {0} may do that")]
    NotYours(&'static str),
    #[error("the call is {}", .0.as_str())]
    WrongState(CallStatus),
}

/// The status `action` by `party` moves a call in `status` to.
pub fn transition(status: CallStatus, action: CallAction, party: Party) -> Result<CallStatus, Refused> {
    use CallAction::*;
    use CallStatus::*;
    let (allowed, from, to) = match action {
        Answer => (party == Party::Callee, Ringing, Active),
        Decline => (party == Party::Callee, Ringing, Declined),
        Cancel => (party == Party::Caller, Ringing, Cancelled),
        Miss => (party == Party::Clock, Ringing, Missed),
        End => (true, Active, Ended),
    };
    if !allowed {
        return Err(Refused::NotYours(match action {
            Answer | Decline => "callee",
            Cancel => "caller",
            Miss | End => "clock (a timeout)",
        }));
    }
    if status != from {
        return Err(Refused::WrongState(status));
    }
    Ok(to)
}

/// Seconds between answering and ending (0 for a call never answered).
pub fn duration_secs(
    answered_at: Option<chrono::DateTime<chrono::Utc>>,
    ended_at: chrono::DateTime<chrono::Utc>,
) -> i32 {
    answered_at.map_or(0, |answered| (ended_at - answered).num_seconds().clamp(0, i64::from(i32::MAX)) as i32)
}

#[cfg(test)]
mod tests {
    use super::CallAction::*;
    use super::CallStatus::*;
    use super::*;

    #[test]
    fn the_callee_answers_or_declines_a_ringing_call() {
        assert_eq!(transition(Ringing, Answer, Party::Callee), Ok(Active));
        assert_eq!(transition(Ringing, Decline, Party::Callee), Ok(Declined));
        assert_eq!(transition(Ringing, Answer, Party::Caller), Err(Refused::NotYours("callee")));
        assert_eq!(transition(Ringing, Decline, Party::Caller), Err(Refused::NotYours("callee")));
        assert_eq!(transition(Active, Answer, Party::Callee), Err(Refused::WrongState(Active)));
    }

    #[test]
    fn the_caller_cancels_while_it_rings() {
        assert_eq!(transition(Ringing, Cancel, Party::Caller), Ok(Cancelled));
        assert_eq!(transition(Ringing, Cancel, Party::Callee), Err(Refused::NotYours("caller")));
        assert_eq!(transition(Active, Cancel, Party::Caller), Err(Refused::WrongState(Active)));
    }

    #[test]
    fn either_side_ends_an_active_call() {
        assert_eq!(transition(Active, End, Party::Caller), Ok(Ended));
        assert_eq!(transition(Active, End, Party::Callee), Ok(Ended));
        assert_eq!(transition(Active, End, Party::Clock), Ok(Ended));
        assert_eq!(transition(Ringing, End, Party::Caller), Err(Refused::WrongState(Ringing)));
        assert_eq!(transition(Ended, End, Party::Caller), Err(Refused::WrongState(Ended)));
    }

    #[test]
    fn only_the_clock_makes_a_ringing_call_missed() {
        assert_eq!(transition(Ringing, Miss, Party::Clock), Ok(Missed));
        assert_eq!(transition(Ringing, Miss, Party::Caller), Err(Refused::NotYours("clock (a timeout)")));
        assert_eq!(transition(Active, Miss, Party::Clock), Err(Refused::WrongState(Active)));
    }

    #[test]
    fn finished_calls_never_move_again() {
        for status in [Ended, Missed, Declined, Cancelled] {
            assert!(!status.is_live());
            for (action, party) in [
                (Answer, Party::Callee),
                (Decline, Party::Callee),
                (Cancel, Party::Caller),
                (End, Party::Caller),
                (Miss, Party::Clock),
            ] {
                assert_eq!(transition(status, action, party), Err(Refused::WrongState(status)));
            }
        }
    }

    #[test]
    fn statuses_and_kinds_round_trip_their_names() {
        for status in CallStatus::ALL {
            assert_eq!(CallStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(CallStatus::parse("on_hold"), None);
        assert_eq!(CallKind::parse("video"), Some(CallKind::Video));
        assert_eq!(CallKind::parse("Video"), None);
    }

    #[test]
    fn a_parties_side_is_found_by_id() {
        assert_eq!(Party::of(1, 1, 2), Some(Party::Caller));
        assert_eq!(Party::of(2, 1, 2), Some(Party::Callee));
        assert_eq!(Party::of(3, 1, 2), None);
    }

    #[test]
    fn duration_counts_from_the_answer() {
        let answered = chrono::Utc::now();
        assert_eq!(duration_secs(Some(answered), answered + chrono::Duration::seconds(75)), 75);
        assert_eq!(duration_secs(None, answered), 0);
        assert_eq!(duration_secs(Some(answered), answered - chrono::Duration::seconds(5)), 0);
    }
}
