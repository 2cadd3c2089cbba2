//! Per-aggregate order inside one claimed batch. The events of one aggregate for one destination
//! form a stream; the relay hands a stream's next event to the brokers only once the previous one
//! was acknowledged, and after a failure holds the rest of that stream back, so that nothing of
//! an aggregate overtakes an earlier event of it. Different streams go side by side: a batch of
//! distinct aggregates leaves in a single wave.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// The waves of one batch: each wave holds at most one event of each stream.
#[derive(Debug)]
pub(super) struct Waves {
    /// The stream of each event, by its position in the batch.
    stream_of: Vec<usize>,
    /// Per stream, the positions of its events not handed over yet, in order.
    waiting: Vec<VecDeque<usize>>,
}

impl Waves {
    /// `streams` names the stream of each event of the batch, in outbox order.
    pub(super) fn new<K: Eq + Hash>(streams: impl IntoIterator<Item = K>) -> Self {
        let mut index = HashMap::new();
        let mut waiting: Vec<VecDeque<usize>> = Vec::new();
        let stream_of = streams
            .into_iter()
            .enumerate()
            .map(|(position, key)| {
                let stream = *index.entry(key).or_insert_with(|| {
                    waiting.push(VecDeque::new());
                    waiting.len() - 1
                });
                waiting[stream].push_back(position);
                stream
            })
            .collect();
        Self { stream_of, waiting }
    }

    /// The events to hand over now, in batch order: the next event of every stream that goes
    /// on. Empty once every event was handed over or held back.
    pub(super) fn next_wave(&mut self) -> Vec<usize> {
        let mut wave: Vec<usize> = self.waiting.iter_mut().filter_map(VecDeque::pop_front).collect();
        wave.sort_unstable();
        wave
    }

    /// The event at `position` failed: the rest of its stream is not sent. Returns the positions
    /// held back, which stay in the outbox behind the failed one.
    pub(super) fn hold_back_after(&mut self, position: usize) -> Vec<usize> {
        self.waiting[self.stream_of[position]].drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_waves(waves: &mut Waves) -> Vec<Vec<usize>> {
        std::iter::from_fn(|| Some(waves.next_wave()).filter(|wave| !wave.is_empty())).collect()
    }

    #[test]
    fn distinct_aggregates_leave_in_one_wave() {
        let mut waves = Waves::new(["a", "b", "c", "d"]);
        assert_eq!(all_waves(&mut waves), [vec![0, 1, 2, 3]]);
    }

    #[test]
    fn an_aggregate_sends_one_event_per_wave_in_order() {
        let mut waves = Waves::new(["a", "b", "a", "c", "a", "b"]);
        assert_eq!(all_waves(&mut waves), [vec![0, 1, 3], vec![2, 5], vec![4]]);
    }

    #[test]
    fn a_failure_holds_back_the_rest_of_its_stream_only() {
        let mut waves = Waves::new(["a", "b", "a", "c", "a", "b"]);
        assert_eq!(waves.next_wave(), [0, 1, 3]);
        assert_eq!(waves.hold_back_after(0), [2, 4], "a's later events stay behind the failed one");
        assert_eq!(all_waves(&mut waves), [vec![5]], "b goes on");
    }

    #[test]
    fn a_failure_in_a_later_wave_holds_back_what_follows_it() {
        let mut waves = Waves::new(["a", "a", "a", "b"]);
        assert_eq!(waves.next_wave(), [0, 3]);
        assert_eq!(waves.next_wave(), [1]);
        assert_eq!(waves.hold_back_after(1), [2]);
        assert!(waves.next_wave().is_empty());
    }

    #[test]
    fn the_same_aggregate_on_two_destinations_is_two_streams() {
        let mut waves = Waves::new([("7", Some("users")), ("7", None), ("7", Some("users"))]);
        assert_eq!(all_waves(&mut waves), [vec![0, 1], vec![2]]);
    }
}
