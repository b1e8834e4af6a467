//! Socket timeouts that change only when they must.
//!
//! With a total deadline, every read and write of ureq's hands the socket
//! the time left, which differs by microseconds from call to call, and each
//! difference costs a `setsockopt`. Rounding the time left up to a grain of
//! [`GRAIN`] keeps the value steady across calls on a kept-alive connection
//! (three system calls fewer per call) at the price of a deadline that may
//! fire up to one grain late.

use std::time::Duration;

use ureq::unversioned::transport::time::Duration as UreqDuration;
use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};
use ureq::Error;

const GRAIN: Duration = Duration::from_millis(10);

/// The link right after TCP (direct or to a proxy), under TLS: the layer
/// that hands timeouts to the socket is the one that sees them rounded.
#[derive(Debug)]
pub(crate) struct SteadyTimeouts;

impl<In: Transport> Connector<In> for SteadyTimeouts {
    type Out = SteadyTransport<In>;

    fn connect(&self, _: &ConnectionDetails, chained: Option<In>) -> Result<Option<Self::Out>, Error> {
        Ok(chained.map(SteadyTransport))
    }
}

#[derive(Debug)]
pub(crate) struct SteadyTransport<T>(T);

impl<T: Transport> Transport for SteadyTransport<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.0.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), Error> {
        self.0.transmit_output(amount, steady(timeout))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        self.0.await_input(steady(timeout))
    }

    fn is_open(&mut self) -> bool {
        self.0.is_open()
    }

    // Of the methods with a default, this one must be passed on: ureq asks
    // it before it sends credentials to an https URL. (The other,
    // `maybe_await_input`, ureq calls only on a `Box<dyn Transport>`, which
    // does not pass it on: its default runs over the methods above.)
    fn is_tls(&self) -> bool {
        self.0.is_tls()
    }
}

fn steady(mut timeout: NextTimeout) -> NextTimeout {
    if let UreqDuration::Exact(left) = timeout.after {
        timeout.after = UreqDuration::Exact(round_up(left));
    }
    timeout
}

fn round_up(left: Duration) -> Duration {
    let grain = GRAIN.as_nanos();
    let nanos = left.as_nanos().div_ceil(grain) * grain;
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_rounds_up_to_the_grain() {
        assert_eq!(round_up(Duration::from_micros(29_999_990)), Duration::from_secs(30));
        assert_eq!(round_up(Duration::from_secs(30)), Duration::from_secs(30));
        assert_eq!(round_up(Duration::from_nanos(1)), GRAIN);
        assert_eq!(round_up(Duration::ZERO), Duration::ZERO);
    }
}
