// The part of a plotly layout that follows the JupyterLab theme.
import type { Layout } from "plotly.js";
import type { Theme } from "../types.js";

export function themeLayout(theme: Theme): Partial<Layout> {
  return {
    paper_bgcolor: theme.background,
    plot_bgcolor: theme.background,
    font: { color: theme.foreground, family: theme.font, size: 12 },
    autosize: true,
  };
}
