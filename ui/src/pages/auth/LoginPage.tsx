/** Sign in with email and password, then continue where the visitor was going. */
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { Link, Navigate, useSearchParams } from "react-router";
import { z } from "zod";
import { api, unwrap } from "@/api/client";
import { useSession } from "@/auth/session";
import { Button } from "@/components/buttons";
import { FormError, TextField } from "@/components/forms";
import { useApiSubmit } from "@/lib/forms";
import { AuthFrame, LINK } from "./AuthFrame";
import { isInvitation, safeNext, withNext } from "./next";
import { MAX_PASSWORD, email } from "./rules";

const schema = z.object({
  email,
  password: z
    .string()
    .min(1, "Enter your password.")
    .max(MAX_PASSWORD, `A password has at most ${MAX_PASSWORD} characters.`),
});

type Values = z.infer<typeof schema>;
const FIELDS = ["email", "password"] as const;

export default function LoginPage() {
  const { tokens, signIn } = useSession();
  const [searchParams] = useSearchParams();
  const next = safeNext(searchParams.get("next"));

  const form = useForm<Values>({
    resolver: zodResolver(schema),
    defaultValues: { email: "", password: "" },
  });
  const { errors } = form.formState;

  const { formError, submit } = useApiSubmit(form, FIELDS, (error) => {
    if (error.status !== 401) return undefined;
    form.resetField("password");
    form.setFocus("password");
    return "The email or password is wrong. Check both and try again.";
  });
  const login = useMutation({
    mutationFn: (values: Values) => unwrap(api.POST("/api/v1/auth/login", { body: values })),
    onSuccess: (pair) => signIn(pair),
  });

  // Signed in (just now, or already in this browser): on to where the visitor was going.
  if (tokens) return <Navigate to={next} replace />;

  const onSubmit = submit((values) => login.mutateAsync(values));

  return (
    <AuthFrame
      title="Sign in"
      description={
        isInvitation(next)
          ? "Sign in with the email address your invitation was sent to; you accept it next."
          : "Welcome back to Campaign Manager."
      }
      footer={
        <>
          New here?{" "}
          <Link className={LINK} to={withNext("/signup", next)}>
            Create an account
          </Link>
        </>
      }
    >
      <form noValidate onSubmit={onSubmit} className="space-y-4" aria-label="Sign in">
        <FormError message={formError} />
        <TextField
          label="Email"
          type="email"
          autoComplete="email"
          required
          error={errors.email?.message}
          {...form.register("email")}
        />
        <TextField
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          error={errors.password?.message}
          {...form.register("password")}
        />
        <Button type="submit" className="w-full" busy={login.isPending}>
          Sign in
        </Button>
      </form>
    </AuthFrame>
  );
}
