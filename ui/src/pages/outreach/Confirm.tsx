/** An inline confirmation for an action that cannot be taken back: it says what will happen,
 * takes the focus (on the safe choice), closes on Escape and gives the focus back to what
 * opened it. */
import { useEffect, useId, useRef } from "react";
import type { ReactNode } from "react";
import { Button } from "@/components/buttons";
import { FormError } from "@/components/forms";

export function Confirm({
  title,
  children,
  confirmLabel,
  dismissLabel,
  busy = false,
  error,
  onConfirm,
  onDismiss,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  dismissLabel: string;
  busy?: boolean;
  error?: string | null;
  onConfirm: () => void;
  onDismiss: () => void;
}) {
  const titleId = useId();
  const bodyId = useId();
  const boxRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    boxRef.current?.querySelector<HTMLButtonElement>("[data-dismiss]")?.focus();
    return () => {
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  return (
    <div
      ref={boxRef}
      role="alertdialog"
      aria-labelledby={titleId}
      aria-describedby={bodyId}
      className="space-y-3 rounded-md border border-amber-300 bg-amber-50 p-4 text-sm text-slate-900"
      onKeyDown={(event) => {
        if (event.key === "Escape" && !busy) {
          event.stopPropagation();
          onDismiss();
        }
      }}
    >
      <p id={titleId} className="font-semibold">
        {title}
      </p>
      <div id={bodyId} className="space-y-2 text-slate-800">
        {children}
      </div>
      <FormError message={error} />
      <div className="flex flex-wrap gap-2">
        <Button tone="danger" busy={busy} onClick={onConfirm}>
          {confirmLabel}
        </Button>
        <Button data-dismiss tone="secondary" disabled={busy} onClick={onDismiss}>
          {dismissLabel}
        </Button>
      </div>
    </div>
  );
}
