/** The YAML parser, loaded by load.ts only when a spec's parsed data is not remembered. */
import { parseDocument } from 'yaml';
import { SpecError } from './errors.js';

/** The data of a YAML spec; its syntax errors by line and column, in one SpecError naming the file. */
export function yamlData(file: string, text: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new SpecError(
      file,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return `${pos ? `line ${pos.line}, column ${pos.col}` : 'YAML'}: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  return doc.toJS();
}
