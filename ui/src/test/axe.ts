/** Accessibility checks for component tests: what axe finds wrong in the rendered page (labels,
 * names, roles, heading order), as "rule: where" lines. */
import axe from "axe-core";

/** Violations under ``root``; colour contrast is left out, since jsdom lays nothing out. */
export async function axeViolations(root: Element = document.body): Promise<string[]> {
  const results = await axe.run(root, { rules: { "color-contrast": { enabled: false } } });
  return results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}
