/** Labelled inputs with their error beside them; every input has a label and its error is
 * announced (aria-describedby, aria-invalid). */
import { forwardRef, useId } from "react";
import { errorMessage } from "@/api/problem";
import { sentence } from "@/lib/format";
import { Button } from "./buttons";
import type {
  ComponentPropsWithRef,
  InputHTMLAttributes,
  ReactNode,
  SelectHTMLAttributes,
  TextareaHTMLAttributes,
} from "react";

const INPUT =
  "block w-full rounded-md border-0 px-3 py-2 text-sm text-slate-900 shadow-sm ring-1 ring-inset ring-slate-300 placeholder:text-slate-500 focus:ring-2 focus:ring-inset focus:ring-indigo-600 aria-[invalid=true]:ring-red-500 disabled:bg-slate-100";

interface FieldProps {
  label: string;
  error?: string | undefined;
  hint?: ReactNode;
}

function FieldShell({
  id,
  label,
  error,
  hint,
  children,
}: FieldProps & { id: string; children: ReactNode }) {
  return (
    <div className="space-y-1">
      <label htmlFor={id} className="block text-sm font-medium text-slate-800">
        {label}
      </label>
      {children}
      {hint && !error && (
        <p id={`${id}-hint`} className="text-xs text-slate-600">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} role="alert" className="text-xs font-medium text-red-700">
          {error}
        </p>
      )}
    </div>
  );
}

function described(id: string, error?: string, hint?: ReactNode): string | undefined {
  if (error) return `${id}-error`;
  if (hint) return `${id}-hint`;
  return undefined;
}

/** The id, label, hint and error wiring every control of a field shares; ``render`` draws the
 * control with the attributes it gets. */
function Field({
  field: { id, label, error, hint },
  render,
}: {
  field: FieldProps & { id: string | undefined };
  render: (control: { id: string; "aria-invalid": true | undefined; "aria-describedby": string | undefined }) => ReactNode;
}) {
  const autoId = useId();
  const controlId = id ?? autoId;
  return (
    <FieldShell id={controlId} label={label} error={error} hint={hint}>
      {render({
        id: controlId,
        "aria-invalid": error ? true : undefined,
        "aria-describedby": described(controlId, error, hint),
      })}
    </FieldShell>
  );
}

export const TextField = forwardRef<
  HTMLInputElement,
  FieldProps & InputHTMLAttributes<HTMLInputElement>
>(function TextField({ label, error, hint, id, className = "", ...props }, ref) {
  return (
    <Field
      field={{ id, label, error, hint }}
      render={(control) => <input ref={ref} {...control} className={`${INPUT} ${className}`} {...props} />}
    />
  );
});

export const TextAreaField = forwardRef<
  HTMLTextAreaElement,
  FieldProps & TextareaHTMLAttributes<HTMLTextAreaElement> & { mono?: boolean }
>(function TextAreaField({ label, error, hint, id, mono = false, className = "", ...props }, ref) {
  return (
    <Field
      field={{ id, label, error, hint }}
      render={(control) => (
        <textarea ref={ref} {...control} className={`${INPUT} ${mono ? "font-mono" : ""} ${className}`} {...props} />
      )}
    />
  );
});

export const SelectField = forwardRef<
  HTMLSelectElement,
  FieldProps & SelectHTMLAttributes<HTMLSelectElement> & { options: { value: string; label: string }[] }
>(function SelectField({ label, error, hint, id, options, className = "", ...props }, ref) {
  return (
    <Field
      field={{ id, label, error, hint }}
      render={(control) => (
        <select ref={ref} {...control} className={`${INPUT} ${className}`} {...props}>
          {options.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      )}
    />
  );
});

/** A two-letter country code (the rule is ``countryCode`` in lib/rules). */
export const CountryField = forwardRef<HTMLInputElement, Omit<FieldProps, "label"> & InputHTMLAttributes<HTMLInputElement>>(
  function CountryField(props, ref) {
    return (
      <TextField
        ref={ref}
        label="Country"
        placeholder="DE"
        maxLength={2}
        autoComplete="off"
        hint="Two-letter code"
        {...props}
      />
    );
  },
);

/** A checkbox with its label beside it (the label names it and toggles it). */
export const CheckboxField = forwardRef<HTMLInputElement, { label: string } & InputHTMLAttributes<HTMLInputElement>>(
  function CheckboxField({ label, ...props }, ref) {
    return (
      <label className="flex items-center gap-2 text-sm text-slate-800">
        <input ref={ref} type="checkbox" className="h-4 w-4 rounded border-slate-400" {...props} />
        {label}
      </label>
    );
  },
);

/** An amount typed in major units ("1500.50") with its three-letter currency code beside it;
 * each part takes a TextField's props (label, error, a registration). */
export function MoneyFields({
  amount,
  currency,
}: {
  amount: ComponentPropsWithRef<typeof TextField>;
  currency: ComponentPropsWithRef<typeof TextField>;
}) {
  return (
    <div className="grid grid-cols-[1fr_6rem] gap-2">
      <TextField inputMode="decimal" placeholder="0.00" {...amount} />
      <TextField maxLength={3} autoComplete="off" className="uppercase" {...currency} />
    </div>
  );
}

const FILE_INPUT =
  "block w-full text-sm text-slate-800 file:mr-3 file:rounded-md file:border-0 file:bg-indigo-50 file:px-3 file:py-2 file:text-sm file:font-medium file:text-indigo-800 hover:file:bg-indigo-100";

/** A file picker, labelled and with its hint and error like the other fields. */
export const FileField = forwardRef<HTMLInputElement, FieldProps & InputHTMLAttributes<HTMLInputElement>>(
  function FileField({ label, error, hint, id, className = "", ...props }, ref) {
    return (
      <Field
        field={{ id, label, error, hint }}
        render={(control) => <input ref={ref} type="file" {...control} className={`${FILE_INPUT} ${className}`} {...props} />}
      />
    );
  },
);

/** A titled group of a long form's fields, with an error about the group as a whole (no
 * weekday picked) under them. */
export function Fieldset({ legend, children, error }: { legend: string; children: ReactNode; error?: string | undefined }) {
  return (
    <fieldset className="space-y-4 rounded-md border border-slate-200 p-4">
      <legend className="px-1 text-sm font-semibold text-slate-900">{legend}</legend>
      {children}
      {error && (
        <p role="alert" className="text-xs font-medium text-red-700">
          {error}
        </p>
      )}
    </fieldset>
  );
}

/** A form's buttons: the submit button (busy while the form is sent) and, given ``onCancel``, a
 * way out that leaves things as they were. */
export function FormActions({
  submitLabel,
  busy = false,
  disabled = false,
  onCancel,
  cancelLabel = "Cancel",
}: {
  submitLabel: string;
  busy?: boolean;
  disabled?: boolean;
  onCancel?: () => void;
  cancelLabel?: string;
}) {
  return (
    <div className="flex flex-wrap gap-2">
      <Button type="submit" busy={busy} disabled={disabled}>
        {submitLabel}
      </Button>
      {onCancel && (
        <Button tone="secondary" disabled={busy} onClick={onCancel}>
          {cancelLabel}
        </Button>
      )}
    </div>
  );
}

/** An error about the form as a whole (not one field): the problem's detail. */
export function FormError({ message }: { message: string | null | undefined }) {
  if (!message) return null;
  return (
    <div role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
      {message}
    </div>
  );
}

/** Why an action failed, said beside the control that started it (a row's "Remove"); nothing
 * while there is no error. */
export function ActionError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p role="alert" className="mt-1 text-xs font-medium text-red-700">
      {sentence(errorMessage(error))}
    </p>
  );
}
