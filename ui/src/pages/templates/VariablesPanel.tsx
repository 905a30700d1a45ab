/** The variables a template may use (from the API), grouped; each inserts ``{{ name }}`` at the
 * caret of the part last focused in the editor. */
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { Card } from "@/components/page";
import { QueryState } from "@/components/states";
import { PART_LABELS, type Part } from "./templateTypes";

const GROUPS: Record<string, string> = {
  artist: "Artist",
  contact: "Recipient",
  campaign: "Campaign",
  sender: "Sender",
};

interface Variable {
  name: string;
  description: string;
}

function grouped(variables: Variable[]): [string, Variable[]][] {
  const groups = new Map<string, Variable[]>();
  for (const variable of variables) {
    const prefix = variable.name.includes(".") ? variable.name.split(".")[0] ?? "" : "";
    const title = GROUPS[prefix] ?? "Links";
    groups.set(title, [...(groups.get(title) ?? []), variable]);
  }
  return [...groups];
}

export function VariablesPanel({
  target,
  onInsert,
  canInsert,
}: {
  target: Part;
  onInsert: (name: string) => void;
  canInsert: boolean;
}) {
  const variables = useQuery({
    queryKey: ["email-templates", "variables"],
    queryFn: () => unwrap(api.GET("/api/v1/email-templates/variables")),
    staleTime: Infinity,
  });

  return (
    <Card title="Variables">
      <p className="mb-3 text-sm text-slate-600" aria-live="polite">
        {canInsert ? (
          <>
            Click one to insert it at the cursor in{" "}
            <strong data-testid="insert-target">{PART_LABELS[target]}</strong>. A missing value prints as
            nothing; write <code className="font-mono text-xs">{'{{ artist.city or "your city" }}'}</code> for a
            fallback.
          </>
        ) : (
          "What a template can use for each recipient."
        )}
      </p>
      <QueryState query={variables} label="Loading variables">
        {(list) => (
          <div className="space-y-4">
            {grouped(list).map(([title, items]) => (
              <section key={title} aria-label={`${title} variables`}>
                <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">{title}</h3>
                <ul className="mt-1 space-y-1">
                  {items.map((variable) => (
                    <li key={variable.name} className="flex flex-wrap items-baseline gap-x-2">
                      {canInsert ? (
                        <button
                          type="button"
                          aria-label={`Insert ${variable.name}`}
                          // Keeps the caret where it is in the field for a mouse click.
                          onMouseDown={(event) => event.preventDefault()}
                          onClick={() => onInsert(variable.name)}
                          className="rounded bg-indigo-50 px-1.5 py-0.5 font-mono text-xs text-indigo-800 ring-1 ring-inset ring-indigo-200 hover:bg-indigo-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
                        >
                          {variable.name}
                        </button>
                      ) : (
                        <code className="font-mono text-xs text-slate-800">{variable.name}</code>
                      )}
                      <span className="text-xs text-slate-600">{variable.description}</span>
                    </li>
                  ))}
                </ul>
              </section>
            ))}
          </div>
        )}
      </QueryState>
    </Card>
  );
}
