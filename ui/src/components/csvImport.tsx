/** What a CSV import reports back: the rows it skipped, each with the column and the problem. */
import { formatNumber } from "@/lib/format";
import { Table } from "./page";

interface RowProblem {
  row: number;
  field: string;
  message: string;
}

/** The skipped rows of an import; ``limit`` is how many problems the server lists at most, so a
 * list that long says it may be cut short. */
export function ImportProblems({ problems, limit }: { problems: RowProblem[]; limit?: number }) {
  if (problems.length === 0) return null;
  return (
    <div className="space-y-2">
      {limit !== undefined && problems.length >= limit && (
        <p className="text-sm text-slate-700">The first {formatNumber(limit)} problems:</p>
      )}
      <Table caption="Rows not imported" head={["Row", "Column", "Problem"]}>
        {problems.map((problem, index) => (
          <tr key={`${problem.row}-${problem.field}-${index}`}>
            <td className="px-3 py-2 tabular-nums">{problem.row}</td>
            <td className="px-3 py-2 font-mono text-xs">{problem.field}</td>
            <td className="px-3 py-2 text-red-800">{problem.message}</td>
          </tr>
        ))}
      </Table>
    </div>
  );
}
