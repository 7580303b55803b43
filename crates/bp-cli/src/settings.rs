//! Turning the shared options into a checked pipeline.

use bp_std::pipeline::{default_workers, ConfigError, Pipeline};

use crate::{args::PipelineArgs, error::CliError};

/// Builds the pipeline that `args` describe, with `history_size` bytes of
/// preceding input per chunk.
///
/// # Errors
///
/// A usage error naming the option to change.
pub fn build_pipeline(args: &PipelineArgs, history_size: usize) -> Result<Pipeline, CliError> {
    let workers = match args.workers {
        Some(workers) => usize::try_from(workers).map_err(|_| {
            CliError::usage(format!("invalid --workers {workers}: too many threads"))
        })?,
        None => default_workers(),
    };

    let mut builder = Pipeline::builder()
        .workers(workers)
        .chunk_size(args.chunk_size)
        .history_size(history_size);
    if let Some(slots) = args.slots {
        builder = builder.slots(slots);
    }
    if let Some(high) = args.high {
        builder = builder.high(high);
    }
    if let Some(low) = args.low {
        builder = builder.low(low);
    }
    builder
        .build()
        .map_err(|error| CliError::usage(describe(error, args)))
}

/// Says which option to change, with the values the user gave or the
/// defaults derived from them.
fn describe(error: ConfigError, args: &PipelineArgs) -> String {
    let default_note = |value: Option<u32>| {
        if value.is_some() {
            ""
        } else {
            " (the default)"
        }
    };
    match error {
        ConfigError::ZeroSlots => String::from("invalid --slots 0: use at least 1"),
        ConfigError::ZeroHigh => String::from("invalid --high 0: use at least 1"),
        ConfigError::ZeroWorkers => String::from("invalid --workers 0: use at least 1"),
        ConfigError::ZeroChunkSize => String::from("invalid --chunk-size 0: use at least 1 byte"),
        ConfigError::LowNotBelowHigh { low, high } => format!(
            "invalid --low {low}{}: it must be below --high {high}{}; lower --low or raise --high",
            default_note(args.low),
            default_note(args.high)
        ),
        ConfigError::HighAboveSlots { high, slots } => format!(
            "invalid --high {high}: it must not exceed --slots {slots}{}; lower --high or raise --slots",
            if args.slots.is_some() { "" } else { " (the default)" }
        ),
        ConfigError::TooManySlots { slots, max } => match (args.slots, args.high) {
            (Some(_), _) => format!("invalid --slots {slots}: use at most {max}"),
            // Without --slots the slot count follows --high or the workers.
            (None, Some(high)) if high as usize == slots => {
                format!("invalid --high {high}: use at most {max}")
            }
            (None, _) => format!(
                "{slots} slots (4 per worker) exceed the maximum of {max}; use fewer --workers \
                 or set --slots"
            ),
        },
        ConfigError::TooLarge { slots, .. } => format!(
            "--slots {slots} times --chunk-size {} does not fit in memory; use fewer slots or a smaller chunk size",
            args.chunk_size
        ),
        other => format!("invalid pipeline settings: {other}"),
    }
}
