import Foundation
import IntakeStore

/// The chart of a feed's last nights (docs/feeds.md "Where people see feeds"): one row of bars per
/// count — created, updated, unchanged, left, failed — each row scaled to its own largest night, so
/// that a night with ten times the usual leavers stands out even when unchanged records are in the
/// millions. Drawn here as SVG, with no script; every bar has a title with its exact number.
enum FeedChart {
    struct Night {
        var batch: String
        var label: String
        var counts: [Int]
    }

    static let series: [(name: String, colour: String)] = [
        ("created", "#2e7d32"), ("updated", "#1565c0"), ("unchanged", "#9e9e9e"), ("left", "#ef6c00"), ("failed", "#c62828")
    ]

    /// The counts of one batch, in the order of `series`.
    static func counts(_ p: RunProgress) -> [Int] {
        let created = p.destinations.values.reduce(0) { $0 + $1.created }
        let updated = p.destinations.values.reduce(0) { $0 + $1.updated }
        return [created, updated, p.recordsUnchanged, p.recordsLeft, p.recordsFailed]
    }

    /// `nights` oldest first.
    static func svg(_ nights: [Night]) -> String {
        let (labelWidth, bar, gap, rowHeight, rowGap) = (90, 14, 4, 36, 10)
        let width = labelWidth + max(nights.count, 1) * (bar + gap) + 10
        let height = series.count * (rowHeight + rowGap) + 20
        var out =
            #"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="chart-title" class="feed-chart" id="feed-chart" "#
            + #"width="\#(width)" height="\#(height)" viewBox="0 0 \#(width) \#(height)">"#
            + #"<title id="chart-title">Created, updated, unchanged, left and failed records of the last \#(nights.count) runs, oldest first</title>"#
        for (row, (name, colour)) in series.enumerated() {
            let top = row * (rowHeight + rowGap) + 4
            let largest = max(nights.map { $0.counts[row] }.max() ?? 0, 1)
            out += #"<text x="0" y="\#(top + rowHeight / 2 + 4)" font-size="12" fill="currentColor">\#(name) (max \#(largest))</text>"#
            out += #"<line x1="\#(labelWidth)" y1="\#(top + rowHeight)" x2="\#(width - 10)" y2="\#(top + rowHeight)" stroke="silver"/>"#
            for (index, night) in nights.enumerated() {
                let value = night.counts[row]
                let h = value == 0 ? 0 : max(2, value * rowHeight / largest)
                let x = labelWidth + index * (bar + gap)
                out +=
                    #"<a href="\#(AdminPath.batches)/\#(escaped(night.batch))"><rect x="\#(x)" y="\#(top + rowHeight - h)" width="\#(bar)" height="\#(h)" fill="\#(colour)">"#
                out += "<title>\(escaped(night.label)): \(value) \(name)</title></rect></a>"
            }
        }
        return out + "</svg>"
    }

    /// Text inside the SVG, which the page includes as it is.
    static func escaped(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
