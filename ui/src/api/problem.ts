/** An RFC 9457 problem document as the API sends it, and the error thrown for it. */
export interface FieldError {
  field: string;
  message: string;
}

export interface ProblemBody {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: FieldError[] | null;
}

export class ApiError extends Error {
  readonly status: number;
  readonly problem: ProblemBody;

  constructor(status: number, problem: ProblemBody) {
    super(problem.detail || problem.title || `The server answered ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }

  /** Field errors by field name (``name``, ``data.reviews.1.text``). */
  get fieldErrors(): FieldError[] {
    return this.problem.errors ?? [];
  }
}

/** A readable sentence for any error a query or mutation can end with. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = error.fieldErrors;
    if (fields.length > 0 && !error.problem.detail) {
      return fields.map((f) => `${f.field}: ${f.message}`).join("; ");
    }
    return error.message;
  }
  if (error instanceof TypeError) return "The server could not be reached. Check your connection.";
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}
