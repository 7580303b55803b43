//! The plot of the low-water-mark sweep: throughput as a share of the
//! work-bound limit, and futex calls per chunk, against the low water mark.

use std::error::Error;
use std::path::Path;

use plotters::prelude::*;

use crate::handoff::{Peer, HIGH, LOADS, LOWS, WORKER_COUNTS};

use super::targets;
use super::Inputs;

/// Plot size in pixels.
const SIZE: (u32, u32) = (1000, 440);

/// Smallest value on the logarithmic futex axis; smaller values, zero
/// included, are drawn there.
const FUTEX_AXIS_MIN: f64 = 0.005;

/// Colors of the measured series, in order; the bound is drawn in black.
const COLORS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

/// One line of the plot.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// (low water mark, value) points.
    pub points: Vec<(f64, f64)>,
}

/// Returns the lines of both panels: throughput as a percentage of the
/// work-bound limit, and futex calls per chunk followed by the bound.
pub fn series(inputs: &Inputs<'_>) -> (Vec<Series>, Vec<Series>) {
    let mut throughput = Vec::new();
    let mut futex = Vec::new();
    let limit_name = Peer::WorkBound.name();

    for load in LOADS {
        let group = load.group();
        for workers in WORKER_COUNTS {
            let label = format!("~{} µs, {workers} worker(s)", load.micros);
            let value = workers.to_string();
            let limit = inputs.results.get(&group, &limit_name, &value);

            let shares = LOWS.iter().filter_map(|&low| {
                let measured = inputs
                    .results
                    .get(&group, &Peer::Bp { low }.name(), &value)?;
                Some((
                    f64::from(low),
                    100.0 * limit?.median_ns / measured.median_ns,
                ))
            });
            push_series(&mut throughput, &label, shares.collect());

            if let Ok(counts) = inputs.counts {
                let calls = LOWS.iter().filter_map(|&low| {
                    let per_chunk = targets::futex_per_chunk(counts, load.micros, workers, low)?;
                    Some((f64::from(low), per_chunk.max(FUTEX_AXIS_MIN)))
                });
                push_series(&mut futex, &label, calls.collect());
            }
        }
    }

    if !futex.is_empty() {
        let bound = (0..HIGH)
            .map(|low| (f64::from(low), targets::futex_bound(low)))
            .collect();
        push_series(&mut futex, "bound 2 / (high - low)", bound);
    }
    (throughput, futex)
}

fn push_series(all: &mut Vec<Series>, label: &str, points: Vec<(f64, f64)>) {
    if !points.is_empty() {
        all.push(Series {
            label: label.to_owned(),
            points,
        });
    }
}

/// Draws both panels into an SVG file at `path`.
///
/// # Errors
///
/// Any error of the drawing backend, such as a failed write.
pub fn draw(path: &Path, throughput: &[Series], futex: &[Series]) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(SIZE.0 / 2);
    let x_range = 0f64..f64::from(HIGH);
    let x_label = format!("low water mark (high = {HIGH})");

    let top = throughput
        .iter()
        .flat_map(|series| series.points.iter().map(|point| point.1))
        .fold(100.0, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(&left)
        .caption("bp throughput, backpressured", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(x_range.clone(), 0f64..top)?;
    chart
        .configure_mesh()
        .x_desc(x_label.as_str())
        .x_label_formatter(&|low| format!("{low:.0}"))
        .y_desc("% of work-bound limit")
        .y_label_formatter(&|share| format!("{share:.0}"))
        .draw()?;
    for (index, line) in throughput.iter().enumerate() {
        draw_line(&mut chart, line, color(index))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;

    let mut chart = ChartBuilder::on(&right)
        .caption("bp futex calls per chunk", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x_range, (FUTEX_AXIS_MIN..4f64).log_scale())?;
    chart
        .configure_mesh()
        .x_desc(x_label.as_str())
        .x_label_formatter(&|low| format!("{low:.0}"))
        .y_desc("futex calls per chunk (log scale)")
        .draw()?;
    // The bound comes last and is drawn dashed, without dots.
    if let Some((bound, measured)) = futex.split_last() {
        for (index, line) in measured.iter().enumerate() {
            draw_line(&mut chart, line, color(index))?;
        }
        let style = BLACK.stroke_width(1);
        chart
            .draw_series(DashedLineSeries::new(bound.points.clone(), 6, 4, style))?
            .label(bound.label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;

    root.present()?;
    Ok(())
}

fn color(index: usize) -> RGBAColor {
    COLORS[index % COLORS.len()].to_rgba()
}

/// Draws one series as a line with a dot at each point, with its legend.
fn draw_line<'a, DB, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    line: &Series,
    color: RGBAColor,
) -> Result<(), Box<dyn Error>>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    Y: Ranged<ValueType = f64>,
{
    chart
        .draw_series(LineSeries::new(line.points.clone(), color.stroke_width(2)))?
        .label(line.label.as_str())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
    chart.draw_series(
        line.points
            .iter()
            .map(|&point| Circle::new(point, 3, color.filled())),
    )?;
    Ok(())
}
