//! Benchmarks of Specter: a load generator, the servers it measures, and the report.
//!
//! Every figure is a ratio between servers measured in the same run by the same load
//! generator: these machines are shared and noisy.

pub mod alloc;
pub mod apps;
pub mod fanout;
pub mod loadgen;
pub mod process;
pub mod recovery;
pub mod report;
pub mod serve;
