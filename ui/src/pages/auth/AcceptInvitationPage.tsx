/** Accept an invitation to a workspace with the code from the invitation email
 * (``/invitations/accept?code=...``): signed out, sign in or sign up first, keeping the code;
 * signed in, join, switch to the workspace and open its dashboard. */
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { Link, useNavigate, useSearchParams } from "react-router";
import { z } from "zod";
import { api, unwrap } from "@/api/client";
import { errorMessage } from "@/api/problem";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { FormError, TextField } from "@/components/forms";
import { sentence } from "@/lib/format";
import { useApiSubmit } from "@/lib/forms";
import { AuthFrame, LINK } from "./AuthFrame";

const schema = z.object({
  token: z
    .string()
    .trim()
    .min(1, "Enter the code from your invitation email.")
    .max(200, "An invitation code has at most 200 characters."),
});

type Values = z.infer<typeof schema>;

/** Joined, but switching to the workspace failed: the membership stands all the same. */
class SwitchFailed extends Error {
  constructor(
    readonly workspace: string,
    readonly reason: unknown,
  ) {
    super(`You joined ${workspace}, but switching to it failed: ${sentence(errorMessage(reason))}`);
  }
}

/** This page again with ``code``, to come back to after signing in or up. */
function returnPath(code: string): string {
  const trimmed = code.trim();
  return trimmed ? `/invitations/accept?code=${encodeURIComponent(trimmed)}` : "/invitations/accept";
}

export default function AcceptInvitationPage() {
  const { tokens, me, signOut, switchWorkspace } = useSession();
  const navigate = useNavigate();
  const [searchParams] = useSearchParams();

  const form = useForm<Values>({
    resolver: zodResolver(schema),
    defaultValues: { token: searchParams.get("code") ?? "" },
  });
  const { errors } = form.formState;
  const code = form.watch("token");
  const { formError, submit } = useApiSubmit(form, ["token"], (error) => {
    if (error.status !== 404) return undefined;
    const who = me ? ` for ${me.user.email}` : "";
    form.setError("token", {
      type: "server",
      message: `There is no open invitation${who} with this code. Check the code, and that you are signed in with the address the invitation was sent to.`,
    });
    return null;
  });

  const accept = useMutation({
    mutationFn: async (values: Values) => {
      const workspace = await unwrap(api.POST("/api/v1/invitations/accept", { body: values }));
      try {
        await switchWorkspace(workspace.id);
      } catch (reason) {
        throw new SwitchFailed(workspace.name, reason);
      }
      return workspace;
    },
    onSuccess: () => navigate("/", { replace: true }),
  });

  // Joined but not switched: said below, with what to do (not as a refusal).
  const onSubmit = submit((values) =>
    accept.mutateAsync(values).catch((error: unknown) => {
      if (!(error instanceof SwitchFailed)) throw error;
    }),
  );

  const codeField = (
    <TextField
      label="Invitation code"
      autoComplete="off"
      spellCheck={false}
      className="font-mono"
      hint="The code in the invitation email."
      error={errors.token?.message}
      {...form.register("token")}
    />
  );

  if (!tokens) {
    const next = encodeURIComponent(returnPath(code));
    return (
      <AuthFrame
        title="Accept your invitation"
        description="Sign in, or create an account, with the email address the invitation was sent to. You come back here to accept it."
      >
        <div className="space-y-4">
          {codeField}
          <div className="flex flex-col gap-2 sm:flex-row">
            <Link
              to={`/login?next=${next}`}
              className="inline-flex flex-1 items-center justify-center rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white shadow-sm hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2"
            >
              Sign in to accept
            </Link>
            <Link
              to={`/signup?next=${next}`}
              className="inline-flex flex-1 items-center justify-center rounded-md bg-white px-3 py-2 text-sm font-medium text-slate-800 shadow-sm ring-1 ring-inset ring-slate-300 hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2"
            >
              Create an account
            </Link>
          </div>
        </div>
      </AuthFrame>
    );
  }

  const switchFailed = accept.error instanceof SwitchFailed ? accept.error : null;

  return (
    <AuthFrame
      title="Accept your invitation"
      description={
        me ? (
          <>
            Signed in as <strong className="font-medium text-slate-800">{me.user.email}</strong>. The
            invitation must have been sent to this address.
          </>
        ) : (
          "The invitation must have been sent to the address you are signed in with."
        )
      }
      footer={
        <>
          Not you?{" "}
          <button type="button" className={LINK} onClick={() => void signOut()}>
            Sign out
          </button>{" "}
          and sign in with the invited address.
        </>
      }
    >
      {switchFailed ? (
        <div className="space-y-4">
          <div role="alert" className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
            {switchFailed.message} Choose {switchFailed.workspace} in the workspace menu.
          </div>
          <Link className={LINK} to="/">
            Go to the dashboard
          </Link>
        </div>
      ) : (
        <form noValidate onSubmit={onSubmit} className="space-y-4" aria-label="Accept your invitation">
          <FormError message={formError} />
          {codeField}
          <Button type="submit" className="w-full" busy={accept.isPending}>
            Accept invitation
          </Button>
        </form>
      )}
    </AuthFrame>
  );
}
