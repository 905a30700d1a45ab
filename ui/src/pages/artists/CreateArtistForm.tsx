/** Adding an artist to the shared catalogue by hand (editors). */
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";
import { CheckboxField, CountryField, FormActions, FormError, TextAreaField, TextField } from "@/components/forms";
import { conflictOn, useApiSubmit } from "@/lib/forms";
import { splitList } from "@/lib/lists";
import { countryCode, wholeNumber } from "@/lib/rules";
import { MAX_COUNT, type ArtistRead } from "./artistParts";

type ArtistCreate = components["schemas"]["ArtistCreate"];

const optionalCount = wholeNumber({ min: 0, max: MAX_COUNT });
const optionalUrl = z
  .string()
  .trim()
  .max(500, "At most 500 characters.")
  .refine((value) => value === "" || /^https?:\/\/\S+$/.test(value), "Enter an address starting with https://.");

const schema = z.object({
  soundcloud_id: z
    .string()
    .trim()
    .refine(
      (value) => /^\d{1,16}$/.test(value) && Number(value) > 0 && Number.isSafeInteger(Number(value)),
      "Enter the artist's numeric SoundCloud id (a whole number above 0).",
    ),
  name: z.string().trim().min(1, "Enter the artist's name.").max(300, "At most 300 characters."),
  permalink: z
    .string()
    .trim()
    .min(1, "Enter the permalink (the part of the profile address after soundcloud.com/).")
    .max(300, "At most 300 characters.")
    .regex(/^\S+$/, "A permalink has no spaces."),
  soundcloud_username: z.string().trim().max(300, "At most 300 characters."),
  permalink_url: optionalUrl,
  city: z.string().trim().max(200, "At most 200 characters."),
  country: countryCode,
  genres: z
    .string()
    .refine((value) => splitList(value).length <= 50, "At most 50 genres.")
    .refine((value) => splitList(value).every((genre) => genre.length <= 100), "A genre is at most 100 characters."),
  followers: optionalCount,
  tracks: optionalCount,
  verified: z.boolean(),
  description: z.string().max(10_000, "At most 10,000 characters."),
});

type Values = z.infer<typeof schema>;
const FIELDS = [
  "soundcloud_id",
  "name",
  "permalink",
  "soundcloud_username",
  "permalink_url",
  "city",
  "country",
  "genres",
  "followers",
  "tracks",
  "verified",
  "description",
] as const;

function body(values: Values): ArtistCreate {
  const optional = (value: string) => (value.trim() === "" ? null : value.trim());
  return {
    soundcloud_id: Number(values.soundcloud_id),
    name: values.name.trim(),
    permalink: values.permalink.trim(),
    soundcloud_username: optional(values.soundcloud_username),
    permalink_url: optional(values.permalink_url),
    city: optional(values.city),
    country: optional(values.country)?.toUpperCase() ?? null,
    genres: splitList(values.genres),
    followers: values.followers === "" ? 0 : Number(values.followers),
    tracks: values.tracks === "" ? 0 : Number(values.tracks),
    verified: values.verified,
    description: optional(values.description),
  };
}

export function CreateArtistForm({
  onCreated,
  onCancel,
}: {
  onCreated: (artist: ArtistRead) => void;
  onCancel: () => void;
}) {
  const queryClient = useQueryClient();
  const form = useForm<Values>({
    resolver: zodResolver(schema),
    defaultValues: {
      soundcloud_id: "",
      name: "",
      permalink: "",
      soundcloud_username: "",
      permalink_url: "",
      city: "",
      country: "",
      genres: "",
      followers: "",
      tracks: "",
      verified: false,
      description: "",
    },
  });
  const { register } = form;
  const { errors } = form.formState;
  const { formError, submit } = useApiSubmit(form, FIELDS, conflictOn(form.setError, "soundcloud_id"));
  const create = useMutation({
    mutationFn: (values: Values) => unwrap(api.POST("/api/v1/artists", { body: body(values) })),
    onSuccess: (artist) => {
      void queryClient.invalidateQueries({ queryKey: ["artists"] });
      onCreated(artist);
    },
  });

  return (
    <form
      aria-label="New artist"
      noValidate
      onSubmit={submit((values) => create.mutateAsync(values))}
      className="space-y-4"
    >
      <FormError message={formError} />
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField
          label="SoundCloud id"
          inputMode="numeric"
          hint="The number in the profile's API address."
          error={errors.soundcloud_id?.message}
          {...register("soundcloud_id")}
        />
        <TextField label="Name" autoComplete="off" error={errors.name?.message} {...register("name")} />
        <TextField
          label="Permalink"
          hint="soundcloud.com/<permalink>"
          autoComplete="off"
          error={errors.permalink?.message}
          {...register("permalink")}
        />
        <TextField
          label="SoundCloud username"
          autoComplete="off"
          error={errors.soundcloud_username?.message}
          {...register("soundcloud_username")}
        />
        <TextField
          label="Profile URL"
          type="url"
          placeholder="https://soundcloud.com/…"
          error={errors.permalink_url?.message}
          {...register("permalink_url")}
        />
        <TextField
          label="Genres"
          hint="Separate with commas."
          error={errors.genres?.message}
          {...register("genres")}
        />
        <TextField label="City" error={errors.city?.message} {...register("city")} />
        <CountryField error={errors.country?.message} {...register("country")} />
        <TextField
          label="Followers"
          inputMode="numeric"
          error={errors.followers?.message}
          {...register("followers")}
        />
        <TextField label="Tracks" inputMode="numeric" error={errors.tracks?.message} {...register("tracks")} />
      </div>
      <CheckboxField label="Verified on SoundCloud" {...register("verified")} />
      <TextAreaField
        label="Description"
        rows={3}
        error={errors.description?.message}
        {...register("description")}
      />
      <FormActions submitLabel="Create artist" busy={create.isPending} onCancel={onCancel} />
    </form>
  );
}
