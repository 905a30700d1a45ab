/** The outbox: mail the service wrote to its data folder instead of sending (an outreach with
 * no mailbox, invitations with no relay), newest first, and a reader for one message with its
 * links as text to copy. */
import { useCallback, useId } from "react";
import { Link, useSearchParams } from "react-router";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { ApiError } from "@/api/problem";
import { Button, CopyButton } from "@/components/buttons";
import { HtmlFrame } from "@/components/HtmlFrame";
import { Card, PageHeader } from "@/components/page";
import { PagedList } from "@/components/paged";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatDateTime, formatNumber } from "@/lib/format";
import { usePagedList } from "@/lib/paging";
import type { LiveEvent } from "@/live/events";
import { useLiveEvents } from "@/live/LiveProvider";
import { messageLinks, type MessageLink } from "./links";

// Writes that put a message in the outbox: an outreach's sends, an emailed invitation.
const WRITES_MAIL = new Set(["email_record", "invitation"]);

function formatSize(bytes: number): string {
  return bytes < 1024 ? `${formatNumber(bytes)} B` : `${formatNumber(Math.round(bytes / 102.4) / 10)} KB`;
}

function LinkRow({ link }: { link: MessageLink }) {
  const id = useId();
  return (
    <li className="space-y-1">
      <label htmlFor={id} className="block text-sm font-medium text-slate-800">
        {link.label}
      </label>
      <div className="flex gap-2">
        <input
          id={id}
          readOnly
          value={link.url}
          onFocus={(event) => event.currentTarget.select()}
          className="block w-full min-w-0 rounded-md border-0 bg-slate-50 px-3 py-2 font-mono text-xs text-slate-900 ring-1 ring-inset ring-slate-300"
        />
        <CopyButton text={link.url} label="Copy" accessibleLabel={`Copy ${link.label}`} />
      </div>
    </li>
  );
}

function MessageViewer({ messageId }: { messageId: string }) {
  const message = useQuery({
    queryKey: ["outbox", "message", messageId],
    queryFn: () =>
      unwrap(api.GET("/api/v1/outbox/{message_id}", { params: { path: { message_id: messageId } } })),
    // A written message never changes.
    staleTime: Infinity,
  });

  if (message.isPending) return <Loading label="Loading the message" />;
  if (message.isError) {
    if (message.error instanceof ApiError && (message.error.status === 404 || message.error.status === 422)) {
      return <Empty title="This message is not in the outbox">It may have been removed from the data folder.</Empty>;
    }
    return <ErrorState error={message.error} retry={() => void message.refetch()} />;
  }
  const data = message.data;
  const links = messageLinks(data);
  return (
    <Card
      title={data.subject || "(no subject)"}
      actions={
        <Link to="/outbox" className="text-sm text-indigo-700 hover:underline">
          Close message
        </Link>
      }
    >
      <div className="space-y-6">
        <dl className="grid gap-x-6 gap-y-2 text-sm sm:grid-cols-3">
          <div>
            <dt className="font-medium text-slate-600">To</dt>
            <dd className="break-all text-slate-900">{data.to}</dd>
          </div>
          <div>
            <dt className="font-medium text-slate-600">Date</dt>
            <dd className="text-slate-900">{formatDateTime(data.date)}</dd>
          </div>
          <div>
            <dt className="font-medium text-slate-600">Size</dt>
            <dd className="text-slate-900">{formatSize(data.size)}</dd>
          </div>
        </dl>

        <section aria-labelledby="message-links">
          <h3 id="message-links" className="text-sm font-semibold text-slate-900">
            Links
          </h3>
          {links.length === 0 ? (
            <p className="mt-1 text-sm text-slate-600">This message has no links.</p>
          ) : (
            <ul className="mt-2 space-y-3">
              {links.map((link) => (
                <LinkRow key={link.url} link={link} />
              ))}
            </ul>
          )}
        </section>

        <section aria-labelledby="message-text">
          <h3 id="message-text" className="text-sm font-semibold text-slate-900">
            Text part
          </h3>
          {data.text ? (
            <pre
              data-testid="outbox-text"
              className="mt-2 max-h-[32rem] overflow-auto whitespace-pre-wrap break-words rounded-md bg-slate-50 p-3 font-mono text-xs text-slate-800"
            >
              {data.text}
            </pre>
          ) : (
            <p className="mt-1 text-sm text-slate-600">The message has no text part.</p>
          )}
        </section>

        <section aria-labelledby="message-html">
          <h3 id="message-html" className="text-sm font-semibold text-slate-900">
            HTML part
          </h3>
          {data.html ? (
            <div className="mt-2 space-y-1">
              <p className="text-xs text-slate-600">
                Shown without images or scripts, so reading it here records no open and no click.
              </p>
              <HtmlFrame html={data.html} title="HTML part of the message" />
            </div>
          ) : (
            <p className="mt-1 text-sm text-slate-600">The message has no HTML part.</p>
          )}
        </section>

        <details>
          <summary className="cursor-pointer text-sm font-semibold text-slate-900">
            Headers ({data.headers.length})
          </summary>
          <div role="group" aria-label="Message headers" tabIndex={0} className="mt-2 overflow-x-auto">
            <table className="min-w-full text-xs">
              <caption className="sr-only">Message headers</caption>
              <tbody className="divide-y divide-slate-100">
                {data.headers.map((header, index) => (
                  <tr key={`${header.name}-${index}`}>
                    <th scope="row" className="whitespace-nowrap py-1 pr-3 text-left align-top font-medium text-slate-700">
                      {header.name}
                    </th>
                    <td className="break-all py-1 font-mono text-slate-900">{header.value}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      </div>
    </Card>
  );
}

export default function OutboxPage() {
  const queryClient = useQueryClient();
  const [params] = useSearchParams();
  const selected = params.get("message");

  const entries = usePagedList(["outbox", "list"], (cursor) =>
    unwrap(api.GET("/api/v1/outbox", { params: { query: { limit: 50, cursor } } })),
  );

  // The outbox has no live events of its own; the writes that fill it do.
  const onEvent = useCallback(
    (event: LiveEvent) => {
      if (WRITES_MAIL.has(event.entity_type ?? "")) void queryClient.invalidateQueries({ queryKey: ["outbox", "list"] });
    },
    [queryClient],
  );
  useLiveEvents(onEvent);

  const rows = entries.data ?? [];

  return (
    <div className="space-y-6">
      <PageHeader
        title="Outbox"
        description="Mail the service kept instead of sending: outreach with no mailbox, and invitations while no SMTP relay is set."
        actions={
          <Button tone="secondary" busy={entries.isRefetching} onClick={() => void entries.refetch()}>
            Refresh
          </Button>
        }
      />
      <div className="grid gap-6 lg:grid-cols-[minmax(0,22rem)_minmax(0,1fr)]">
        <div className="min-w-0 space-y-3">
          <PagedList
            list={entries}
            loading="Loading the outbox"
            more="Load more"
            empty={
              <Empty title="The outbox is empty">
                Messages appear here when an outreach without a mailbox sends, or an invitation is emailed while no
                relay is set.
              </Empty>
            }
          >
            {(messages) => (
              <ul aria-label="Outbox messages" className="divide-y divide-slate-100 overflow-hidden rounded-lg bg-white shadow-sm ring-1 ring-slate-200">
                {messages.map((entry) => (
                  <li key={entry.id}>
                    <Link
                      to={`/outbox?message=${entry.id}`}
                      aria-current={entry.id === selected ? "true" : undefined}
                      className={`block px-4 py-3 hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-inset focus-visible:ring-indigo-500 ${entry.id === selected ? "bg-indigo-50" : ""}`}
                    >
                      <span className="block truncate text-sm font-medium text-slate-900">{entry.subject || "(no subject)"}</span>
                      <span className="block truncate text-xs text-slate-600">
                        To {entry.to} · {formatDateTime(entry.date)} · {formatSize(entry.size)}
                      </span>
                    </Link>
                  </li>
                ))}
              </ul>
            )}
          </PagedList>
        </div>
        <div className="min-w-0">
          {selected ? (
            <MessageViewer key={selected} messageId={selected} />
          ) : (
            rows.length > 0 && <p className="text-sm text-slate-600">Pick a message to read it.</p>
          )}
        </div>
      </div>
    </div>
  );
}
