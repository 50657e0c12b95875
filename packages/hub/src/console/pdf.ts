/**
 * A page printed to PDF by headless Chromium (the system's browser, console.pdfBrowser): the HTML
 * is written to a private temporary folder and printed from there, with no network, so the PDF
 * shows exactly what the console's report page shows.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-pdf-header-footer'];

export async function htmlToPdf(browser: string, html: string, timeoutMs = 60_000): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'sentinela-pdf-'));
  try {
    const page = join(dir, 'report.html');
    const out = join(dir, 'report.pdf');
    writeFileSync(page, html);
    const child = spawn(browser, [...ARGS, `--user-data-dir=${join(dir, 'profile')}`, `--print-to-pdf=${out}`, pathToFileURL(page).href], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    }).finally(() => clearTimeout(timer));
    let pdf: Buffer;
    try {
      pdf = readFileSync(out);
    } catch {
      throw new Error(`${browser} made no PDF (exit ${code}): ${err.trim().split('\n').slice(-1)[0] ?? ''}`);
    }
    if (pdf.subarray(0, 5).toString('latin1') !== '%PDF-') throw new Error(`${browser} wrote something that is not a PDF`);
    return pdf;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
