/** Whether the workspace watches an artist (watched artists are kept fresh and can be searched
 * for); editors turn it on and off, viewers only see it. */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { ActionError } from "@/components/forms";
import { Badge } from "@/components/page";

export function WatchToggle({ artistId, name, watched }: { artistId: string; name: string; watched: boolean }) {
  const { canEdit } = useSession();
  const queryClient = useQueryClient();
  const change = useMutation({
    mutationFn: (watch: boolean) => {
      const params = { params: { path: { artist_id: artistId } } };
      return unwrap(
        watch ? api.PUT("/api/v1/artists/{artist_id}/watch", params) : api.DELETE("/api/v1/artists/{artist_id}/watch", params),
      );
    },
    // The detail and every search (its "watched" filter and badges) read it.
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["artists"] }),
  });

  const state = watched ? <Badge tone="green">Watched</Badge> : null;
  if (!canEdit) return state;
  return (
    <div className="flex flex-col items-end">
      <div className="flex items-center gap-2">
        {state}
        <Button
          tone={watched ? "secondary" : "primary"}
          busy={change.isPending}
          aria-label={`${watched ? "Unwatch" : "Watch"} ${name}`}
          onClick={() => change.mutate(!watched)}
        >
          {watched ? "Unwatch" : "Watch"}
        </Button>
      </div>
      <ActionError error={change.error} />
    </div>
  );
}
