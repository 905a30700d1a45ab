/** Shared charts (Recharts), each with its numbers also readable as a table.
 *
 * - ``<TimeSeriesChart title data series kind valueFormat/>``: one line or bar per series over
 *   labelled points (days, months, categories: the x axis is whatever ``label`` holds).
 * - ``<SpendBudgetChart title items/>``: budget against spent per item (campaign), one chart per
 *   currency (amounts in different currencies are never drawn on one axis); spent is red over
 *   budget.
 *
 * Both fill their container's width at a fixed height, and offer "Show the numbers" (a
 * ``<details>`` table) for keyboard and screen-reader users.
 */
import {
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { formatCompact, formatMoney, formatNumber } from "@/lib/format";

/** One point on the x axis: its label and a number per series key. */
export interface ChartPoint {
  label: string;
  values: Record<string, number>;
}

export interface ChartSeries {
  /** Key into each point's ``values``. */
  key: string;
  /** Shown in the legend, tooltip and table. */
  label: string;
  /** A CSS colour; default: the next of the palette. */
  color?: string;
}

/** Distinguishable colours, also in greyscale order (dark to light). */
/** Legend labels in the page's text colour (the swatch beside each carries the series colour;
 * coloured text would fail the contrast check on white). */
function legendText(value: unknown) {
  return <span className="text-slate-700">{String(value)}</span>;
}

export const CHART_COLORS = ["#4f46e5", "#0891b2", "#16a34a", "#d97706", "#db2777", "#64748b"];

const AXIS_TICK = { fontSize: 12, fill: "#475569" };

function colorOf(series: ChartSeries, index: number): string {
  return series.color ?? CHART_COLORS[index % CHART_COLORS.length] ?? "#4f46e5";
}

function NumbersTable({
  title,
  head,
  rows,
}: {
  title: string;
  head: string[];
  rows: { key: string; cells: string[] }[];
}) {
  return (
    <details className="mt-2 text-sm">
      <summary className="cursor-pointer rounded text-indigo-700 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500">
        Show the numbers
      </summary>
      <div className="mt-2 max-h-72 overflow-auto">
        <table className="min-w-full divide-y divide-slate-200 text-xs">
          <caption className="sr-only">{title}</caption>
          <thead className="bg-slate-50">
            <tr>
              {head.map((column) => (
                <th key={column} scope="col" className="px-2 py-1 text-left font-semibold text-slate-700">
                  {column}
                </th>
              ))}
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {rows.map((row) => (
              <tr key={row.key}>
                {row.cells.map((cell, index) =>
                  index === 0 ? (
                    <th key={index} scope="row" className="px-2 py-1 text-left font-normal text-slate-800">
                      {cell}
                    </th>
                  ) : (
                    <td key={index} className="px-2 py-1 tabular-nums text-slate-800">
                      {cell}
                    </td>
                  ),
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

/** Series over labelled points, as lines (trends) or grouped bars (amounts per period). */
export function TimeSeriesChart({
  title,
  data,
  series,
  kind = "line",
  height = 260,
  valueFormat = formatNumber,
}: {
  /** What the chart shows; its accessible name and the table's caption. */
  title: string;
  data: ChartPoint[];
  series: ChartSeries[];
  kind?: "line" | "bar";
  height?: number;
  /** Tooltip and table values (axis ticks are compact). Default: formatNumber. */
  valueFormat?: (value: number) => string;
}) {
  const rows = data.map((point) => ({ label: point.label, ...point.values }));
  const axisFormat = (value: number) =>
    valueFormat === formatNumber ? formatCompact(value) : valueFormat(value);
  const tooltipFormat = (value: unknown) => valueFormat(Number(value));
  // Legend and tooltip list the series in the order given (Recharts sorts by name otherwise).
  const order = (item: { dataKey?: unknown }) => series.findIndex((s) => s.key === item.dataKey);
  const common = (
    <>
      <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
      <XAxis dataKey="label" tick={AXIS_TICK} minTickGap={16} />
      <YAxis tick={AXIS_TICK} tickFormatter={axisFormat} width={72} allowDecimals={false} />
      <Tooltip formatter={tooltipFormat} itemSorter={order} />
      <Legend itemSorter={order} formatter={legendText} />
    </>
  );
  return (
    <figure aria-label={title} className="w-full">
      <ResponsiveContainer width="100%" height={height} initialDimension={{ width: 640, height }}>
        {kind === "line" ? (
          <LineChart data={rows} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
            {common}
            {series.map((item, index) => (
              <Line
                key={item.key}
                type="monotone"
                dataKey={item.key}
                name={item.label}
                stroke={colorOf(item, index)}
                strokeWidth={2}
                dot={data.length <= 14}
                isAnimationActive={false}
              />
            ))}
          </LineChart>
        ) : (
          <BarChart data={rows} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
            {common}
            {series.map((item, index) => (
              <Bar
                key={item.key}
                dataKey={item.key}
                name={item.label}
                fill={colorOf(item, index)}
                isAnimationActive={false}
              />
            ))}
          </BarChart>
        )}
      </ResponsiveContainer>
      <NumbersTable
        title={title}
        head={["", ...series.map((item) => item.label)]}
        rows={data.map((point) => ({
          key: point.label,
          cells: [point.label, ...series.map((item) => valueFormat(point.values[item.key] ?? 0))],
        }))}
      />
    </figure>
  );
}

/** A campaign (or anything with a budget) for ``SpendBudgetChart``. */
export interface SpendItem {
  id: string;
  name: string;
  budget_minor: number;
  spent_minor: number;
  /** ISO 4217: items are charted per currency. */
  currency: string;
}

const BUDGET_COLOR = "#94a3b8";
const SPENT_COLOR = "#4f46e5";
const OVER_COLOR = "#dc2626";

/** Minor units in one major unit of ``currency`` (100 for EUR, 1 for JPY). */
function minorPerMajor(currency: string): number {
  try {
    const digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions()
      .maximumFractionDigits;
    return 10 ** (digits ?? 2);
  } catch {
    return 100;
  }
}

/** Axis labels stay short enough not to run into each other; the tooltip and table have the
 * whole name. */
function shortName(name: string): string {
  return name.length > 14 ? `${name.slice(0, 13)}…` : name;
}

function isOver(item: SpendItem): boolean {
  return item.budget_minor > 0 && item.spent_minor > item.budget_minor;
}

/** Budget and spent side by side per item, one chart per currency. */
export function SpendBudgetChart({
  title,
  items,
  height = 240,
}: {
  title: string;
  items: SpendItem[];
  height?: number;
}) {
  const byCurrency = new Map<string, SpendItem[]>();
  for (const item of items) {
    const group = byCurrency.get(item.currency) ?? [];
    group.push(item);
    byCurrency.set(item.currency, group);
  }
  const several = byCurrency.size > 1;
  return (
    <div className="space-y-4">
      {[...byCurrency.entries()].map(([currency, group]) => {
        const name = several ? `${title} (${currency})` : title;
        const money = (value: unknown) => formatMoney(Number(value), currency);
        const unit = minorPerMajor(currency);
        return (
          <figure key={currency} aria-label={name} className="w-full">
              {several && <figcaption className="mb-1 text-sm font-medium text-slate-700">{currency}</figcaption>}
              <ResponsiveContainer width="100%" height={height} initialDimension={{ width: 640, height }}>
                <BarChart
                  data={group.map((item) => ({ ...item, over: isOver(item) }))}
                  margin={{ top: 8, right: 16, bottom: 0, left: 0 }}
                >
                  <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
                  <XAxis
                    dataKey="name"
                    tick={AXIS_TICK}
                    interval={0}
                    tickFormatter={shortName}
                    angle={group.length > 2 ? -30 : 0}
                    textAnchor={group.length > 2 ? "end" : "middle"}
                    height={group.length > 2 ? 64 : 30}
                  />
                  <YAxis
                    tick={AXIS_TICK}
                    width={80}
                    tickFormatter={(value: number) => formatCompact(value / unit)}
                  />
                  <Tooltip formatter={money} />
                  <Legend formatter={legendText} />
                  <Bar dataKey="budget_minor" name="Budget" fill={BUDGET_COLOR} isAnimationActive={false} />
                  <Bar dataKey="spent_minor" name="Spent" fill={SPENT_COLOR} isAnimationActive={false}>
                    {group.map((item) => (
                      <Cell key={item.id} fill={isOver(item) ? OVER_COLOR : SPENT_COLOR} />
                    ))}
                  </Bar>
                </BarChart>
              </ResponsiveContainer>
              <NumbersTable
                title={name}
                head={["", "Budget", "Spent", "Left"]}
                rows={group.map((item) => ({
                  key: item.id,
                  cells: [
                    item.name,
                    item.budget_minor > 0 ? formatMoney(item.budget_minor, currency) : "No budget",
                    formatMoney(item.spent_minor, currency),
                    item.budget_minor > 0
                      ? formatMoney(item.budget_minor - item.spent_minor, currency)
                      : "—",
                  ],
                }))}
              />
          </figure>
        );
      })}
    </div>
  );
}
