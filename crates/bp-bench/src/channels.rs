//! The bounded channel libraries that the peers use, behind one trait, so
//! that each scenario is written once for all of them.

use std::sync::{mpsc, Mutex};

/// A library of bounded blocking channels.
pub trait Channel {
    /// Name used in benchmark ids and reports.
    const NAME: &'static str;

    /// The sending end; every peer clones it for each thread.
    type Sender<T: Send>: Clone + Send;
    /// The receiving end, owned by one thread.
    type Receiver<T: Send>: Send;
    /// A receiving end that several threads share by reference.
    type Shared<T: Send>: Sync;

    /// Creates a channel that holds at most `capacity` values.
    fn bounded<T: Send>(capacity: usize) -> (Self::Sender<T>, Self::Receiver<T>);

    /// Sends `value`, blocking while the channel is full. Hands the value
    /// back if every receiver is gone.
    fn send<T: Send>(sender: &Self::Sender<T>, value: T) -> Result<(), T>;

    /// Receives a value, blocking while the channel is empty. Returns
    /// `None` once it is empty and every sender is gone.
    fn recv<T: Send>(receiver: &Self::Receiver<T>) -> Option<T>;

    /// Makes a receiver shareable by several threads.
    fn share<T: Send>(receiver: Self::Receiver<T>) -> Self::Shared<T>;

    /// Receives from a shared receiver like [`recv`](Self::recv).
    fn recv_shared<T: Send>(shared: &Self::Shared<T>) -> Option<T>;
}

/// Implements [`Channel`] for a library whose receiver is `Clone` and
/// `Sync`, so threads share it as it is, and whose send error hands the
/// value back through `into_inner`.
macro_rules! shareable_channel {
    ($(#[$doc:meta])* $type:ident, $library:ident, $name:literal) => {
        $(#[$doc])*
        pub struct $type;

        impl Channel for $type {
            const NAME: &'static str = $name;

            type Sender<T: Send> = $library::Sender<T>;
            type Receiver<T: Send> = $library::Receiver<T>;
            type Shared<T: Send> = $library::Receiver<T>;

            fn bounded<T: Send>(capacity: usize) -> (Self::Sender<T>, Self::Receiver<T>) {
                $library::bounded(capacity)
            }

            #[inline]
            fn send<T: Send>(sender: &Self::Sender<T>, value: T) -> Result<(), T> {
                sender.send(value).map_err(|error| error.into_inner())
            }

            #[inline]
            fn recv<T: Send>(receiver: &Self::Receiver<T>) -> Option<T> {
                receiver.recv().ok()
            }

            fn share<T: Send>(receiver: Self::Receiver<T>) -> Self::Shared<T> {
                receiver
            }

            #[inline]
            fn recv_shared<T: Send>(shared: &Self::Shared<T>) -> Option<T> {
                shared.recv().ok()
            }
        }
    };
}

shareable_channel!(
    /// crossbeam-channel's `bounded`.
    Crossbeam,
    crossbeam_channel,
    "crossbeam"
);

shareable_channel!(
    /// flume's `bounded`.
    Flume,
    flume,
    "flume"
);

/// std's `sync_channel`.
pub struct StdSync;

impl Channel for StdSync {
    const NAME: &'static str = "std_sync_channel";

    type Sender<T: Send> = mpsc::SyncSender<T>;
    type Receiver<T: Send> = mpsc::Receiver<T>;
    // std's receiver is not `Sync`, so threads share it behind a lock and
    // hold the lock while they wait, as the usual worker pool over std
    // channels does.
    type Shared<T: Send> = Mutex<mpsc::Receiver<T>>;

    fn bounded<T: Send>(capacity: usize) -> (Self::Sender<T>, Self::Receiver<T>) {
        mpsc::sync_channel(capacity)
    }

    #[inline]
    fn send<T: Send>(sender: &Self::Sender<T>, value: T) -> Result<(), T> {
        sender.send(value).map_err(|error| error.0)
    }

    #[inline]
    fn recv<T: Send>(receiver: &Self::Receiver<T>) -> Option<T> {
        receiver.recv().ok()
    }

    fn share<T: Send>(receiver: Self::Receiver<T>) -> Self::Shared<T> {
        Mutex::new(receiver)
    }

    #[inline]
    fn recv_shared<T: Send>(shared: &Self::Shared<T>) -> Option<T> {
        shared
            .lock()
            .expect("no receiving thread panicked")
            .recv()
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send_then_close<C: Channel>() {
        let (sender, receiver) = C::bounded::<u32>(2);
        C::send(&sender, 1).unwrap();
        C::send(&sender, 2).unwrap();
        drop(sender);

        let shared = C::share(receiver);
        assert_eq!(C::recv_shared(&shared), Some(1), "{}", C::NAME);
        assert_eq!(C::recv_shared(&shared), Some(2), "{}", C::NAME);
        assert_eq!(C::recv_shared(&shared), None, "{}", C::NAME);
    }

    fn send_after_receiver_gone<C: Channel>() {
        let (sender, receiver) = C::bounded::<u32>(1);
        drop(receiver);

        assert_eq!(C::send(&sender, 7), Err(7), "{}", C::NAME);
    }

    #[test]
    fn every_channel_delivers_in_order_then_ends() {
        send_then_close::<Crossbeam>();
        send_then_close::<Flume>();
        send_then_close::<StdSync>();
    }

    #[test]
    fn every_channel_hands_back_unsent_value() {
        send_after_receiver_gone::<Crossbeam>();
        send_after_receiver_gone::<Flume>();
        send_after_receiver_gone::<StdSync>();
    }

    #[test]
    fn owned_receiver_reads_what_was_sent() {
        let (sender, receiver) = StdSync::bounded::<u32>(1);
        StdSync::send(&sender, 5).unwrap();

        assert_eq!(StdSync::recv(&receiver), Some(5));
    }
}
