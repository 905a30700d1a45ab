import type { components } from "@/api/schema";

export type Template = components["schemas"]["EmailTemplateRead"];
export type TemplateType = components["schemas"]["TemplateType"];

export const TEMPLATE_TYPES: { value: TemplateType; label: string }[] = [
  { value: "initial", label: "First message" },
  { value: "follow_up", label: "Follow-up" },
];

export function templateTypeLabel(type: TemplateType): string {
  return TEMPLATE_TYPES.find((option) => option.value === type)?.label ?? type;
}

/** The template parts a variable can go into, as the API names them, with their labels. */
export const PART_LABELS = {
  subject: "Subject",
  body_text: "Text body",
  body_html: "HTML body",
} as const;

export type Part = keyof typeof PART_LABELS;

export function partLabel(field: string): string {
  return field in PART_LABELS ? PART_LABELS[field as Part] : field;
}

/** The longest each part may be, as the API bounds it. */
export const PART_LIMITS: Record<Part, number> = {
  subject: 500,
  body_text: 100_000,
  body_html: 100_000,
};

/** Unsaved text of the parts that differ from the saved template. */
export type Draft = Partial<Record<Part, string>>;
