/** Adding an artist to the shared catalogue by hand (editors). */
import { useState } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { ApiError } from "@/api/problem";
import type { components } from "@/api/schema";
import { Button } from "@/components/buttons";
import { FormError, TextAreaField, TextField } from "@/components/forms";
import { showApiError } from "@/lib/forms";
import { MAX_COUNT, type ArtistRead } from "./artistParts";

type ArtistCreate = components["schemas"]["ArtistCreate"];

const optionalCount = z
  .string()
  .trim()
  .refine(
    (value) => value === "" || (/^\d{1,10}$/.test(value) && Number(value) <= MAX_COUNT),
    `Enter a whole number from 0 to ${MAX_COUNT.toLocaleString("en")}.`,
  );
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
  country: z
    .string()
    .trim()
    .refine((value) => value === "" || /^[A-Za-z]{2}$/.test(value), "Use a two-letter country code, e.g. DE."),
  genres: z
    .string()
    .refine((value) => splitGenres(value).length <= 50, "At most 50 genres.")
    .refine((value) => splitGenres(value).every((genre) => genre.length <= 100), "A genre is at most 100 characters."),
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

function splitGenres(value: string): string[] {
  return [...new Set(value.split(",").map((genre) => genre.trim()).filter(Boolean))];
}

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
    genres: splitGenres(values.genres),
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
  const [formError, setFormError] = useState<string | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors },
  } = useForm<Values>({
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
  const create = useMutation({
    mutationFn: (values: Values) => unwrap(api.POST("/api/v1/artists", { body: body(values) })),
    onSuccess: (artist) => {
      void queryClient.invalidateQueries({ queryKey: ["artists"] });
      onCreated(artist);
    },
    onError: (error) => {
      if (error instanceof ApiError && error.status === 409) {
        setError("soundcloud_id", { type: "server", message: error.message });
        setFormError(null);
        return;
      }
      setFormError(showApiError(error, setError, FIELDS));
    },
  });

  return (
    <form
      aria-label="New artist"
      noValidate
      onSubmit={handleSubmit((values) => {
        setFormError(null);
        create.mutate(values);
      })}
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
        <TextField
          label="Country"
          maxLength={2}
          placeholder="DE"
          error={errors.country?.message}
          {...register("country")}
        />
        <TextField
          label="Followers"
          inputMode="numeric"
          error={errors.followers?.message}
          {...register("followers")}
        />
        <TextField label="Tracks" inputMode="numeric" error={errors.tracks?.message} {...register("tracks")} />
      </div>
      <div className="flex items-center gap-2">
        <input
          id="new-artist-verified"
          type="checkbox"
          className="h-4 w-4 rounded border-slate-400"
          {...register("verified")}
        />
        <label htmlFor="new-artist-verified" className="text-sm text-slate-800">
          Verified on SoundCloud
        </label>
      </div>
      <TextAreaField
        label="Description"
        rows={3}
        error={errors.description?.message}
        {...register("description")}
      />
      <div className="flex flex-wrap gap-2">
        <Button type="submit" busy={create.isPending}>
          Create artist
        </Button>
        <Button tone="secondary" onClick={onCancel}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
