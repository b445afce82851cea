/**
 * Markdown built from run or data content (run names, backends, error messages, query texts): a
 * repository controls all of it. Such text is escaped (every ASCII punctuation character backslashed,
 * as CommonMark allows, so no heading, list, link, image, code span, HTML tag, autolink or theme
 * icon can be formed; line breaks become spaces), and every MarkdownString of the extension is made
 * untrusted: no command links (isTrusted false), no HTML (supportHtml false). No VS Code import.
 */

/** `text` shown literally inside Markdown, on one line. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\r\n\u2028\u2029]+/g, ' ')
    .replace(/[!-/:-@[-`{-~]/g, '\\$&')
    .replace(/[\u0000-\u001f\u007f]/g, ''); // eslint-disable-line no-control-regex -- dropping control characters is the point
}

/** The flags of a MarkdownString showing content the workspace controls: no command links, no HTML; codicons only from our own text. */
export interface MarkdownFlags {
  isTrusted?: boolean | object;
  supportHtml?: boolean;
  supportThemeIcons?: boolean;
}

/** Sets the flags of `md` for untrusted content (command links and HTML off) and returns it. */
export function untrustedMarkdown<T extends MarkdownFlags>(md: T): T {
  md.isTrusted = false;
  md.supportHtml = false;
  return md;
}
