/** Create an account and its first workspace, then continue where the visitor was going. */
import { useState } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { Link, Navigate, useSearchParams } from "react-router";
import { z } from "zod";
import { api, unwrap } from "@/api/client";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { CheckboxField, FormError, TextField } from "@/components/forms";
import { useApiSubmit } from "@/lib/forms";
import { AuthFrame, LINK } from "./AuthFrame";
import { isInvitation, safeNext, withNext } from "./next";
import { MIN_PASSWORD, email, newPassword } from "./rules";

const schema = z.object({
  display_name: z.string().trim().max(200, "Your name can have at most 200 characters."),
  email,
  password: newPassword,
  workspace_name: z.string().trim().max(200, "A workspace name has at most 200 characters."),
});

type Values = z.infer<typeof schema>;
const FIELDS = ["display_name", "email", "password", "workspace_name"] as const;

export default function SignupPage() {
  const { tokens, signIn } = useSession();
  const [searchParams] = useSearchParams();
  const next = safeNext(searchParams.get("next"));
  const [emailTaken, setEmailTaken] = useState(false);
  const [showPassword, setShowPassword] = useState(false);

  const form = useForm<Values>({
    resolver: zodResolver(schema),
    defaultValues: { display_name: "", email: "", password: "", workspace_name: "" },
  });
  const { errors } = form.formState;
  const { formError, submit } = useApiSubmit(form, FIELDS, (error) => {
    if (error.status !== 409) return undefined;
    setEmailTaken(true);
    form.setError("email", { type: "server", message: "An account with this email already exists." });
    return null;
  });

  const register = useMutation({
    mutationFn: (values: Values) =>
      unwrap(
        api.POST("/api/v1/auth/register", {
          body: {
            email: values.email,
            password: values.password,
            display_name: values.display_name,
            // Left blank, the server names it after the person.
            workspace_name: values.workspace_name || null,
          },
        }),
      ),
    onSuccess: (data) => signIn(data.tokens),
  });

  // Signed in (just now, or already in this browser): on to where the visitor was going.
  if (tokens) return <Navigate to={next} replace />;

  const onSubmit = submit((values) => {
    setEmailTaken(false);
    return register.mutateAsync(values);
  });

  const name = form.watch("display_name").trim();
  const address = form.watch("email").trim();
  const defaultWorkspace = `${name || address.split("@")[0] || "Your name"}'s workspace`;

  return (
    <AuthFrame
      title="Create your account"
      description={
        isInvitation(next)
          ? "Sign up with the email address your invitation was sent to; you accept it next."
          : "Your account comes with a workspace of your own; invite your team to it later."
      }
      footer={
        <>
          Already have an account?{" "}
          <Link className={LINK} to={withNext("/login", next)}>
            Sign in
          </Link>
        </>
      }
    >
      <form noValidate onSubmit={onSubmit} className="space-y-4" aria-label="Create your account">
        <FormError message={formError} />
        <TextField
          label="Your name"
          autoComplete="name"
          error={errors.display_name?.message}
          {...form.register("display_name")}
        />
        <TextField
          label="Email"
          type="email"
          autoComplete="email"
          required
          error={errors.email?.message}
          {...form.register("email")}
        />
        {emailTaken && (
          <p className="text-sm text-slate-700">
            <Link className={LINK} to={withNext("/login", next)}>
              Sign in with this email instead
            </Link>
          </p>
        )}
        <TextField
          label="Password"
          type={showPassword ? "text" : "password"}
          autoComplete="new-password"
          required
          hint={`At least ${MIN_PASSWORD} characters.`}
          error={errors.password?.message}
          {...form.register("password")}
        />
        <CheckboxField
          label="Show password"
          checked={showPassword}
          onChange={(event) => setShowPassword(event.target.checked)}
        />
        <TextField
          label="Workspace name"
          autoComplete="organization"
          hint={`Optional. Left blank, it is called “${defaultWorkspace}”.`}
          error={errors.workspace_name?.message}
          {...form.register("workspace_name")}
        />
        <Button type="submit" className="w-full" busy={register.isPending}>
          Create account
        </Button>
      </form>
    </AuthFrame>
  );
}
