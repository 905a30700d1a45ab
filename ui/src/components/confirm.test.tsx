import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "@/api/problem";
import { ConfirmButton } from "./confirm";

function renderDelete(onConfirm: () => void | Promise<unknown>) {
  render(
    <ConfirmButton
      label="Delete"
      accessibleLabel="Delete template Welcome"
      question="Delete the template “Welcome”?"
      confirmLabel="Yes, delete"
      onConfirm={onConfirm}
    />,
  );
  return userEvent.setup();
}

describe("ConfirmButton", () => {
  it("asks first, with the focus on the safe choice, and Escape keeps things as they were", async () => {
    const onConfirm = vi.fn();
    const user = renderDelete(onConfirm);

    await user.click(screen.getByRole("button", { name: "Delete template Welcome" }));
    const question = screen.getByRole("alertdialog", { name: "Delete the template “Welcome”?" });
    expect(screen.getByRole("button", { name: "Cancel" })).toHaveFocus();

    await user.keyboard("{Escape}");
    expect(question).not.toBeInTheDocument();
    expect(onConfirm).not.toHaveBeenCalled();
    // Back on the button the question stood in for.
    expect(screen.getByRole("button", { name: "Delete template Welcome" })).toHaveFocus();
  });

  it("keeps the question open while the action runs, and says why it was refused", async () => {
    let refuse: (reason: unknown) => void = () => undefined;
    const user = renderDelete(() => new Promise((_, reject) => (refuse = reject)));

    await user.click(screen.getByRole("button", { name: "Delete template Welcome" }));
    await user.click(screen.getByRole("button", { name: "Yes, delete" }));
    expect(screen.getByRole("button", { name: "Yes, delete" })).toHaveAttribute("aria-busy", "true");
    expect(screen.getByRole("button", { name: "Cancel" })).toBeDisabled();

    refuse(new ApiError(409, { detail: "the template is used by outreach campaign Spring push" }));
    const question = screen.getByRole("alertdialog");
    await waitFor(() => expect(question).toHaveTextContent("the template is used by outreach campaign Spring push"));
    expect(screen.getByRole("button", { name: "Cancel" })).toBeEnabled();
  });

  it("closes at once when the action returns nothing to wait for", async () => {
    const onConfirm = vi.fn();
    const user = renderDelete(onConfirm);

    await user.click(screen.getByRole("button", { name: "Delete template Welcome" }));
    await user.click(screen.getByRole("button", { name: "Yes, delete" }));
    expect(onConfirm).toHaveBeenCalledOnce();
    expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument();
  });
});
