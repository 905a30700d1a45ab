/** An artist's followers over time (from the snapshots discovery records), as a line chart
 * with a sentence saying the same for screen readers. */
import { useQuery } from "@tanstack/react-query";
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { api, unwrap } from "@/api/client";
import { Empty, QueryState } from "@/components/states";
import { formatCompact, formatDate, formatDateTime, formatNumber } from "@/lib/format";

interface Point {
  at: number;
  followers: number;
}

function summary(points: Point[]): string {
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last) return "";
  const change = last.followers - first.followers;
  const direction = change === 0 ? "unchanged" : change > 0 ? `up ${formatNumber(change)}` : `down ${formatNumber(-change)}`;
  return (
    `From ${formatNumber(first.followers)} followers on ${formatDate(new Date(first.at).toISOString())} ` +
    `to ${formatNumber(last.followers)} on ${formatDate(new Date(last.at).toISOString())} (${direction}), ` +
    `over ${points.length} readings.`
  );
}

export function FollowerChart({ artistId }: { artistId: string }) {
  const snapshots = useQuery({
    queryKey: ["artists", artistId, "snapshots"],
    queryFn: () =>
      unwrap(api.GET("/api/v1/artists/{artist_id}/snapshots", { params: { path: { artist_id: artistId } } })),
  });
  return (
    <QueryState query={snapshots} label="Loading follower history">
      {(rows) => {
        const points = rows
          .map((row) => ({ at: new Date(row.captured_at).getTime(), followers: row.followers }))
          .filter((point) => !Number.isNaN(point.at));
        if (points.length < 2) {
          return (
            <Empty title="Not enough history yet">
              Followers are recorded each time discovery reads this artist; the chart appears after
              two readings{points.length === 1 ? " (one so far)" : ""}.
            </Empty>
          );
        }
        const text = summary(points);
        return (
          <figure className="space-y-2">
            <div className="h-64 w-full" role="img" aria-label={`Follower history chart. ${text}`}>
              <ResponsiveContainer width="100%" height="100%">
                <LineChart data={points} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
                  <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
                  <XAxis
                    dataKey="at"
                    type="number"
                    scale="time"
                    domain={["dataMin", "dataMax"]}
                    tickFormatter={(value: number) => formatDate(new Date(value).toISOString())}
                    tick={{ fontSize: 12, fill: "#475569" }}
                  />
                  <YAxis
                    tickFormatter={(value: number) => formatCompact(value)}
                    tick={{ fontSize: 12, fill: "#475569" }}
                    width={56}
                  />
                  <Tooltip
                    labelFormatter={(value) => formatDateTime(new Date(Number(value)).toISOString())}
                    formatter={(value) => [formatNumber(Number(value)), "Followers"]}
                  />
                  <Line
                    type="monotone"
                    dataKey="followers"
                    name="Followers"
                    stroke="#4f46e5"
                    strokeWidth={2}
                    dot={points.length <= 60}
                    isAnimationActive={false}
                  />
                </LineChart>
              </ResponsiveContainer>
            </div>
            <figcaption className="text-sm text-slate-600" data-testid="follower-summary">
              {text}
            </figcaption>
          </figure>
        );
      }}
    </QueryState>
  );
}
