/**
 * VS Code's own JSON language server (the json-language-features server bundled with the code-server
 * installed for the e2e tests), driven over LSP/stdio: what VS Code itself lists in Problems and
 * proposes for a `*.rlens.json` document given the extension's `jsonValidation` schema.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const JSON_SERVER = path.resolve(
  __dirname,
  '../../.cache/code-server/node_modules/code-server/lib/vscode/extensions/json-language-features/server/dist/node/jsonServerMain.js',
);

export interface LspDiagnostic {
  line: number;
  column: number;
  message: string;
}

/** A running JSON language server with one schema association. */
export class JsonLanguageServer {
  private readonly proc: ChildProcess;
  private buf = Buffer.alloc(0);
  private nextId = 1;
  private readonly pending = new Map<number, (r: unknown) => void>();
  private readonly diagnostics = new Map<string, LspDiagnostic[]>();
  private readonly diagWaiters: { uri: string; resolve: (d: LspDiagnostic[]) => void }[] = [];

  constructor() {
    this.proc = spawn(process.execPath, [JSON_SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.proc.stdout!.on('data', (d: Buffer) => this.onData(d));
  }

  private write(m: object): void {
    const s = JSON.stringify({ jsonrpc: '2.0', ...m });
    this.proc.stdin!.write(`Content-Length: ${Buffer.byteLength(s)}\r\n\r\n${s}`);
  }

  private request(method: string, params: unknown): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.write({ id, method, params });
    });
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const h = this.buf.indexOf('\r\n\r\n');
      if (h < 0) return;
      const len = Number(/Content-Length: (\d+)/i.exec(this.buf.subarray(0, h).toString())![1]);
      if (this.buf.length < h + 4 + len) return;
      const msg = JSON.parse(this.buf.subarray(h + 4, h + 4 + len).toString());
      this.buf = this.buf.subarray(h + 4 + len);
      if (msg.method === 'textDocument/publishDiagnostics') {
        const list = (msg.params.diagnostics as { range: { start: { line: number; character: number } }; message: string }[]).map((x) => ({
          line: x.range.start.line + 1,
          column: x.range.start.character + 1,
          message: x.message,
        }));
        this.diagnostics.set(msg.params.uri, list);
        for (const w of this.diagWaiters.filter((w) => w.uri === msg.params.uri)) {
          this.diagWaiters.splice(this.diagWaiters.indexOf(w), 1);
          w.resolve(list);
        }
      } else if (msg.method && msg.id !== undefined) {
        // Server → client requests: schema content, configuration, capability registration.
        let result: unknown = null;
        if (msg.method === 'vscode/content') result = fs.readFileSync(new URL(Array.isArray(msg.params) ? msg.params[0] : msg.params.uri), 'utf8');
        else if (msg.method === 'workspace/configuration') result = msg.params.items.map(() => null);
        this.write({ id: msg.id, result });
      } else if (msg.id !== undefined) {
        this.pending.get(msg.id)?.(msg.result);
        this.pending.delete(msg.id);
      }
    }
  }

  /** initialize + the association of `fileMatch` with `schemaFile`, as VS Code does for a jsonValidation contribution. */
  async start(fileMatch: string, schemaFile: string): Promise<void> {
    await this.request('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: { handledSchemaProtocols: ['file'] } });
    this.write({ method: 'initialized', params: {} });
    this.write({ method: 'workspace/didChangeConfiguration', params: { settings: { json: { validate: { enable: true } } } } });
    this.write({ method: 'json/schemaAssociations', params: [[{ fileMatch: [fileMatch], uri: `file://${schemaFile}` }]] });
  }

  /** Open a document (language jsonc, as *.rlens.json files are) and wait for its diagnostics. */
  open(file: string, text: string): Promise<LspDiagnostic[]> {
    const uri = `file://${file}`;
    const p = new Promise<LspDiagnostic[]>((resolve) => this.diagWaiters.push({ uri, resolve }));
    this.write({ method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'jsonc', version: 1, text } } });
    return p;
  }

  /** Completion labels at a 1-based line/column. */
  async complete(file: string, line: number, column: number): Promise<string[]> {
    const r = (await this.request('textDocument/completion', {
      textDocument: { uri: `file://${file}` },
      position: { line: line - 1, character: column - 1 },
    })) as { items?: { label: string }[] } | { label: string }[] | null;
    const items = Array.isArray(r) ? r : (r?.items ?? []);
    return items.map((i) => i.label);
  }

  dispose(): void {
    this.proc.kill();
  }
}
