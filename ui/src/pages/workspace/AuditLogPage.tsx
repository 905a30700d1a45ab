/** The workspace's audit log: every change, who made it and when, newest first; filtered by
 * entity, action or person (kept in the URL, so a filtered view can be shared), a page at a
 * time, and updated live. Owners and admins only. */
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { Link, useSearchParams } from "react-router";
import { z } from "zod";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";
import { useSession, type Me } from "@/auth/session";
import { Button } from "@/components/buttons";
import { SelectField, TextField } from "@/components/forms";
import { Card, PageHeader, Table } from "@/components/page";
import { PagedList } from "@/components/paged";
import { Empty, Loading } from "@/components/states";
import { formatDateTime, formatNumber } from "@/lib/format";
import { usePagedList } from "@/lib/paging";
import { ENTITY_LABELS, describeAction, entityLabel, entityPath, summarizeData } from "./auditText";
import { personLabel, shortId } from "./people";

type Entry = components["schemas"]["AuditLogEntryRead"];

const PAGE_SIZE = 50;
const FILTERS = ["entity_type", "entity_id", "actor_user_id", "action"] as const;
type FilterName = (typeof FILTERS)[number];
type Filters = Partial<Record<FilterName, string>>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const uuid = (what: string) =>
  z
    .string()
    .trim()
    .refine((value) => value === "" || UUID.test(value), `Enter the full ${what} (a UUID), or leave it blank.`);

const schema = z.object({
  entity_type: z.string().trim().max(60, "An entity type has at most 60 characters."),
  entity_id: uuid("entity id"),
  actor_user_id: uuid("user id"),
  action: z.string().trim().max(100, "An action has at most 100 characters."),
});
type Values = z.infer<typeof schema>;

function filtersFrom(params: URLSearchParams): Filters {
  const filters: Filters = {};
  for (const name of FILTERS) {
    const value = params.get(name)?.trim();
    if (value) filters[name] = value;
  }
  return filters;
}

export default function AuditLogPage() {
  const { me, canAdmin } = useSession();
  const [searchParams, setSearchParams] = useSearchParams();
  const filters = filtersFrom(searchParams);
  const filtered = Object.keys(filters).length > 0;

  const entries = usePagedList(
    ["audit-log", filters],
    (cursor) => unwrap(api.GET("/api/v1/audit-log", { params: { query: { ...filters, limit: PAGE_SIZE, cursor } } })),
    { enabled: canAdmin },
  );

  const header = (
    <PageHeader title="Audit log" description="Every change in this workspace: who made it, and when. Newest first." />
  );
  if (!me) {
    return (
      <>
        {header}
        <Loading />
      </>
    );
  }
  if (!canAdmin) {
    return (
      <>
        {header}
        <Empty title="Only owners and admins can read the audit log">
          Ask one of them if you need to know who changed something.
        </Empty>
      </>
    );
  }

  const apply = (next: Filters) => {
    const params = new URLSearchParams();
    for (const name of FILTERS) {
      const value = next[name];
      if (value) params.set(name, value);
    }
    setSearchParams(params);
  };

  const body = (
    <PagedList
      list={entries}
      loading="Loading the audit log"
      more="Load more entries"
      empty={
        <Empty title={filtered ? "No entries match these filters" : "Nothing has been recorded yet"}>
          {filtered ? "Change or clear the filters." : "Changes to the workspace appear here as they happen."}
        </Empty>
      }
    >
      {(rows) => (
        <div>
          <p className="mb-2 text-sm text-slate-600" data-testid="audit-count">
            Showing {formatNumber(rows.length)} {rows.length === 1 ? "entry" : "entries"}
            {entries.hasNextPage ? " (more below)" : ""}
          </p>
          <Table caption="Audit log entries, newest first" head={["When", "Who", "What", "Entity", "Details"]}>
            {rows.map((entry) => (
              <EntryRow key={entry.id} entry={entry} me={me} onFilter={(more) => apply({ ...filters, ...more })} />
            ))}
          </Table>
        </div>
      )}
    </PagedList>
  );

  return (
    <>
      {header}
      <div className="space-y-6">
        <Card title="Filters">
          <FilterForm key={searchParams.toString()} filters={filters} onApply={apply} />
        </Card>
        <section aria-label="Entries">{body}</section>
      </div>
    </>
  );
}

function FilterForm({ filters, onApply }: { filters: Filters; onApply: (filters: Filters) => void }) {
  const form = useForm<Values>({
    resolver: zodResolver(schema),
    defaultValues: {
      entity_type: filters.entity_type ?? "",
      entity_id: filters.entity_id ?? "",
      actor_user_id: filters.actor_user_id ?? "",
      action: filters.action ?? "",
    },
  });
  const { errors } = form.formState;
  const known = Object.keys(ENTITY_LABELS);
  const types = filters.entity_type && !known.includes(filters.entity_type) ? [...known, filters.entity_type] : known;
  const active = Object.keys(filters).length > 0;
  return (
    <form
      noValidate
      aria-label="Filter the audit log"
      className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4"
      onSubmit={form.handleSubmit((values) => onApply(values))}
    >
      <SelectField
        label="Entity type"
        options={[
          { value: "", label: "Any" },
          ...types.map((type) => ({ value: type, label: entityLabel(type) })),
        ]}
        error={errors.entity_type?.message}
        {...form.register("entity_type")}
      />
      <TextField
        label="Action"
        placeholder="campaign.create"
        hint="Exactly as recorded."
        error={errors.action?.message}
        {...form.register("action")}
      />
      <TextField label="Entity id" spellCheck={false} error={errors.entity_id?.message} {...form.register("entity_id")} />
      <TextField
        label="User id"
        spellCheck={false}
        error={errors.actor_user_id?.message}
        {...form.register("actor_user_id")}
      />
      <div className="flex flex-wrap gap-2 sm:col-span-2 lg:col-span-4">
        <Button type="submit">Apply filters</Button>
        {active && (
          <Button tone="ghost" onClick={() => onApply({})}>
            Clear filters
          </Button>
        )}
      </div>
    </form>
  );
}

const LINK_BUTTON =
  "text-left text-indigo-700 underline decoration-dotted underline-offset-2 hover:text-indigo-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500";

function EntryRow({ entry, me, onFilter }: { entry: Entry; me: Me; onFilter: (filters: Filters) => void }) {
  const system = typeof entry.data.system === "string" ? entry.data.system : null;
  const summary = summarizeData(entry.data);
  const entity = entityLabel(entry.entity_type);
  const path = entry.entity_id && !entry.action.endsWith(".delete") ? entityPath(entry.entity_type, entry.entity_id) : null;

  let who;
  if (entry.actor_user_id) {
    const label = personLabel(entry.actor_user_id, me);
    const actor = entry.actor_user_id;
    who = (
      <button type="button" className={LINK_BUTTON} onClick={() => onFilter({ actor_user_id: actor })}>
        {label}
        <span className="sr-only">: show only their changes</span>
      </button>
    );
  } else {
    who = <span className="text-slate-700">{system ? `System (${system})` : "System, or a deleted user"}</span>;
  }

  return (
    <tr>
      <td className="whitespace-nowrap px-3 py-2 align-top text-slate-700">
        <time dateTime={entry.created_at}>{formatDateTime(entry.created_at)}</time>
      </td>
      <td className="px-3 py-2 align-top">{who}</td>
      <td className="px-3 py-2 align-top">
        <span className="text-slate-900">{describeAction(entry.action)}</span>
        <code className="block text-xs text-slate-500">{entry.action}</code>
      </td>
      <td className="px-3 py-2 align-top">
        {entry.entity_id ? (
          <span className="flex flex-col items-start">
            {path ? (
              <Link to={path} className="text-indigo-700 underline hover:text-indigo-900">
                {entity} {shortId(entry.entity_id)}
              </Link>
            ) : (
              <span className="text-slate-900">
                {entity} <span className="font-mono text-xs">{shortId(entry.entity_id)}</span>
              </span>
            )}
            <button
              type="button"
              className={`${LINK_BUTTON} text-xs`}
              onClick={() => onFilter({ entity_type: entry.entity_type, entity_id: entry.entity_id ?? undefined })}
            >
              History<span className="sr-only"> of {entity.toLowerCase()} {shortId(entry.entity_id)}</span>
            </button>
          </span>
        ) : (
          <span className="text-slate-900">{entity}</span>
        )}
      </td>
      <td className="max-w-md px-3 py-2 align-top text-slate-700">
        {summary && <p className="break-words">{summary}</p>}
        <details className="mt-1 text-xs">
          <summary className="cursor-pointer text-slate-600">All details</summary>
          <pre className="mt-1 max-h-60 overflow-auto whitespace-pre-wrap break-all rounded bg-slate-50 p-2 font-mono">
            {JSON.stringify(entry.data, null, 2)}
          </pre>
          <p className="mt-1 text-slate-600">
            Entry <span className="font-mono">{entry.id}</span>
            {entry.entity_id && (
              <>
                {" "}· entity <span className="font-mono">{entry.entity_id}</span>
              </>
            )}
            {entry.actor_user_id && (
              <>
                {" "}· user <span className="font-mono">{entry.actor_user_id}</span>
              </>
            )}
            {entry.request_id && (
              <>
                {" "}· request <span className="font-mono">{entry.request_id}</span>
              </>
            )}
          </p>
        </details>
      </td>
    </tr>
  );
}
