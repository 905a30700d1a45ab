/** The artist search form: every filter the API takes; submitting puts them in the URL. */
import { useEffect } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { Button } from "@/components/buttons";
import { CountryField, SelectField, TextField } from "@/components/forms";
import { DEFAULT_SORT, SORTS, filterSchema, type FilterValues } from "./filters";

const BLANK: FilterValues = {
  q: "",
  genre: "",
  city: "",
  country: "",
  min_followers: "",
  max_followers: "",
  verified: "",
  has_contact: "",
  watched: "",
  min_growth_7d: "",
  min_growth_30d: "",
  sort: DEFAULT_SORT,
};

export function ArtistFilters({
  values,
  onSearch,
}: {
  values: FilterValues;
  onSearch: (values: FilterValues) => void;
}) {
  const {
    register,
    handleSubmit,
    reset,
    formState: { errors },
  } = useForm<FilterValues>({ resolver: zodResolver(filterSchema), defaultValues: values });

  // Back and forward change the URL: the form follows it.
  const key = JSON.stringify(values);
  useEffect(() => {
    reset(JSON.parse(key) as FilterValues);
  }, [key, reset]);

  return (
    <form
      role="search"
      aria-label="Search artists"
      noValidate
      onSubmit={handleSubmit(onSearch)}
      className="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200"
    >
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <div className="sm:col-span-2">
          <TextField
            label="Search"
            type="search"
            placeholder="Name, permalink or username"
            error={errors.q?.message}
            {...register("q")}
          />
        </div>
        <TextField label="Genre" error={errors.genre?.message} {...register("genre")} />
        <SelectField label="Sort by" options={[...SORTS]} error={errors.sort?.message} {...register("sort")} />
        <TextField label="City" error={errors.city?.message} {...register("city")} />
        <CountryField error={errors.country?.message} {...register("country")} />
        <TextField
          label="Minimum followers"
          inputMode="numeric"
          error={errors.min_followers?.message}
          {...register("min_followers")}
        />
        <TextField
          label="Maximum followers"
          inputMode="numeric"
          error={errors.max_followers?.message}
          {...register("max_followers")}
        />
        <SelectField
          label="Verified"
          options={[
            { value: "", label: "Any" },
            { value: "true", label: "Verified only" },
            { value: "false", label: "Not verified" },
          ]}
          {...register("verified")}
        />
        <SelectField
          label="Email contact"
          hint="In this workspace"
          options={[
            { value: "", label: "Any" },
            { value: "true", label: "Has an email" },
            { value: "false", label: "No email yet" },
          ]}
          {...register("has_contact")}
        />
        <TextField
          label="Minimum 7-day growth (%)"
          inputMode="decimal"
          hint="Followers gained in the last 7 days, in percent"
          error={errors.min_growth_7d?.message}
          {...register("min_growth_7d")}
        />
        <TextField
          label="Minimum 30-day growth (%)"
          inputMode="decimal"
          error={errors.min_growth_30d?.message}
          {...register("min_growth_30d")}
        />
        <SelectField
          label="Watched"
          hint="By this workspace"
          options={[
            { value: "", label: "Any" },
            { value: "true", label: "Watched only" },
            { value: "false", label: "Not watched" },
          ]}
          {...register("watched")}
        />
      </div>
      <div className="mt-4 flex flex-wrap gap-2">
        <Button type="submit">Search</Button>
        <Button
          tone="secondary"
          onClick={() => {
            reset(BLANK);
            onSearch(BLANK);
          }}
        >
          Clear filters
        </Button>
      </div>
    </form>
  );
}
