/**
 * The Markdown the authored answers are written in, to HTML: headings (#..####), paragraphs, bullet and numbered
 * lists, pipe tables, **bold**, *italic*, `code`, and a figure line `{{ figure: id }}` alone on its line, which
 * becomes the figure `figures` gives for that id (an unknown id is an error naming it). Nothing else: answers are
 * prose with numbers, and a small renderer keeps the pages free of scripts and the output predictable.
 *
 * Placeholders with numbers and checks are filled before this (lib/site/checked_text.ts), so this only sees
 * finished text.
 */
import { escapeHtml } from "./format.ts";

/** Inline markup of one line of text: escape, then code spans, bold and italic. */
export function inline(text: string): string {
  const parts = text.split(/(`[^`]*`)/);
  return parts.map((p) =>
    p.startsWith("`") && p.endsWith("`") && p.length >= 2 ? `<code>${escapeHtml(p.slice(1, -1))}</code>` : escapeHtml(p)
      .replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>")
      .replace(/(^|[^*])\*(?!\s)(.+?)\*(?!\*)/g, "$1<em>$2</em>")
  ).join("");
}

function tableHtml(lines: readonly string[]): string {
  const cells = (line: string) => line.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim());
  const [head, , ...body] = lines;
  const right = cells(lines[1]).map((c) => c.endsWith(":"));
  const td = (tag: string, c: string, i: number) => `<${tag}${right[i] ? ' class="num"' : ""}>${inline(c)}</${tag}>`;
  return `<table class="glance"><thead><tr>${cells(head).map((c, i) => td("th", c, i)).join("")}</tr></thead><tbody>${
    body.map((l) => `<tr>${cells(l).map((c, i) => td("td", c, i)).join("")}</tr>`).join("")
  }</tbody></table>`;
}

/** Render `text` to HTML; `figures` maps a figure id to its HTML. */
export function markdownHtml(text: string, figures: (id: string) => string | undefined = () => undefined): string {
  const out: string[] = [];
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  let i = 0;
  const para: string[] = [];
  const flush = () => {
    if (para.length > 0) out.push(`<p>${inline(para.join(" "))}</p>`);
    para.length = 0;
  };
  while (i < lines.length) {
    const line = lines[i];
    const figure = /^\s*\{\{\s*figure:\s*([\w-]+)\s*\}\}\s*$/.exec(line);
    const heading = /^(#{1,4})\s+(.*)$/.exec(line);
    if (line.trim() === "") {
      flush();
      i++;
    } else if (figure) {
      flush();
      const html = figures(figure[1]);
      if (html === undefined) throw new Error(`no figure "${figure[1]}"`);
      out.push(html);
      i++;
    } else if (heading) {
      flush();
      const level = heading[1].length;
      const id = heading[2].toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
      out.push(`<h${level} id="${id}">${inline(heading[2])}</h${level}>`);
      i++;
    } else if (/^\s*\|/.test(line) && /^\s*\|[\s:|-]+\|\s*$/.test(lines[i + 1] ?? "")) {
      flush();
      const rows: string[] = [];
      while (i < lines.length && /^\s*\|/.test(lines[i])) rows.push(lines[i++]);
      out.push(tableHtml(rows));
    } else if (/^\s*(-|\d+\.)\s+/.test(line)) {
      flush();
      const ordered = /^\s*\d+\./.test(line);
      const items: string[] = [];
      while (i < lines.length && lines[i].trim() !== "") {
        const item = /^\s*(-|\d+\.)\s+(.*)$/.exec(lines[i]);
        if (item) items.push(item[2]);
        else items[items.length - 1] += ` ${lines[i].trim()}`;
        i++;
      }
      const tag = ordered ? "ol" : "ul";
      out.push(`<${tag}>${items.map((x) => `<li>${inline(x)}</li>`).join("")}</${tag}>`);
    } else {
      para.push(line.trim());
      i++;
    }
  }
  flush();
  return out.join("\n");
}
