/** A destructive action asked twice, in place: the button turns into the question with
 * "confirm" and "keep" buttons (focus moves to the confirm button; Escape keeps). */
import { useEffect, useRef, useState } from "react";
import { Button } from "@/components/buttons";

export function ConfirmButton({
  label,
  question,
  confirmLabel,
  onConfirm,
  busy = false,
  disabled = false,
  tone = "danger",
  ariaLabel,
}: {
  label: string;
  /** The question asked, e.g. "Delete this campaign?" */
  question: string;
  confirmLabel: string;
  onConfirm: () => void;
  busy?: boolean;
  disabled?: boolean;
  tone?: "danger" | "secondary" | "ghost";
  /** The first button's accessible name when ``label`` alone is ambiguous (rows of a table). */
  ariaLabel?: string;
}) {
  const [asking, setAsking] = useState(false);
  // Button does not forward refs: focus moves through the wrapper (first button inside).
  const wrapper = useRef<HTMLSpanElement>(null);
  const wasAsking = useRef(false);

  useEffect(() => {
    if (asking || wasAsking.current) wrapper.current?.querySelector("button")?.focus();
    wasAsking.current = asking;
  }, [asking]);

  if (!asking) {
    return (
      <span ref={wrapper} className="inline-flex">
        <Button
          tone={tone}
          busy={busy}
          disabled={disabled}
          aria-label={ariaLabel}
          onClick={() => setAsking(true)}
        >
          {label}
        </Button>
      </span>
    );
  }
  return (
    <span
      ref={wrapper}
      role="group"
      aria-label={question}
      className="inline-flex flex-wrap items-center gap-2 rounded-md bg-red-50 px-2 py-1 ring-1 ring-red-200"
      onKeyDown={(event) => {
        if (event.key === "Escape") setAsking(false);
      }}
    >
      <span className="text-sm text-red-900">{question}</span>
      <Button
        tone="danger"
        busy={busy}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {confirmLabel}
      </Button>
      <Button tone="ghost" onClick={() => setAsking(false)}>
        Keep
      </Button>
    </span>
  );
}
