/** Launch, pause, resume and cancel: only the commands the outreach's status allows, cancel
 * behind a confirmation, and a refusal (409: what launching still needs) shown as the server
 * wrote it. */
import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { errorMessage } from "@/api/problem";
import { Button } from "@/components/buttons";
import { Confirmation } from "@/components/confirm";
import { FormError } from "@/components/forms";
import { allowedCommands, type Command, type Outreach, type OutreachStatus } from "./status";

const LABEL: Record<Command, string> = {
  launch: "Launch",
  pause: "Pause",
  resume: "Resume",
  cancel: "Cancel outreach",
};

const VERB: Record<Command, string> = {
  launch: "launch",
  pause: "pause",
  resume: "resume",
  cancel: "cancel",
};

function send(command: Command, outreachId: string): Promise<Outreach> {
  const path = { params: { path: { outreach_campaign_id: outreachId } } };
  switch (command) {
    case "launch":
      return unwrap(api.POST("/api/v1/outreach-campaigns/{outreach_campaign_id}/launch", path));
    case "pause":
      return unwrap(api.POST("/api/v1/outreach-campaigns/{outreach_campaign_id}/pause", path));
    case "resume":
      return unwrap(api.POST("/api/v1/outreach-campaigns/{outreach_campaign_id}/resume", path));
    case "cancel":
      return unwrap(api.POST("/api/v1/outreach-campaigns/{outreach_campaign_id}/cancel", path));
  }
}

export function OutreachActions({ outreachId, status }: { outreachId: string; status: OutreachStatus }) {
  const queryClient = useQueryClient();
  const [confirmingCancel, setConfirmingCancel] = useState(false);
  const mutation = useMutation({
    mutationFn: (command: Command) => send(command, outreachId),
    onSuccess: (outreach) => {
      setConfirmingCancel(false);
      queryClient.setQueryData(["outreach-campaigns", outreachId], outreach);
      // Progress, plan, records and the list read the new status.
      void queryClient.invalidateQueries({ queryKey: ["outreach-campaigns"] });
      void queryClient.invalidateQueries({ queryKey: ["email-records"] });
    },
  });
  const commands = allowedCommands(status);
  const failed = mutation.isError && mutation.variables !== "cancel";
  if (commands.length === 0) return null;

  return (
    <div className="w-full space-y-3 sm:w-auto">
      <div className="flex flex-wrap gap-2" role="group" aria-label="Outreach actions">
        {commands.map((command) => (
          <Button
            key={command}
            tone={command === "cancel" ? "danger" : command === "pause" ? "secondary" : "primary"}
            busy={mutation.isPending && mutation.variables === command}
            disabled={mutation.isPending}
            aria-expanded={command === "cancel" ? confirmingCancel : undefined}
            onClick={() => {
              mutation.reset();
              if (command === "cancel") setConfirmingCancel(true);
              else mutation.mutate(command);
            }}
          >
            {LABEL[command]}
          </Button>
        ))}
      </div>
      {failed && mutation.variables && (
        <FormError message={`Could not ${VERB[mutation.variables]}: ${errorMessage(mutation.error)}`} />
      )}
      {confirmingCancel && (
        <Confirmation
          question="Cancel this outreach for good?"
          confirmLabel="Yes, cancel outreach"
          dismissLabel="Keep it"
          busy={mutation.isPending}
          error={mutation.isError && mutation.variables === "cancel" ? `Could not cancel: ${errorMessage(mutation.error)}` : null}
          onConfirm={() => mutation.mutate("cancel")}
          onDismiss={() => {
            mutation.reset();
            setConfirmingCancel(false);
          }}
        >
          <p>
            Messages still queued will never be sent, and it cannot be launched or resumed again. Messages already
            handed to the mail server are not called back.
          </p>
        </Confirmation>
      )}
    </div>
  );
}
