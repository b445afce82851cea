// Writes schemas/experiment.editor.schema.json from schemas/experiment.schema.json (see src/core/config/editorSchema.ts).
import * as fs from 'fs';
import * as path from 'path';
import { editorSchema } from '../src/core/config/editorSchema';

const dir = path.join(__dirname, '..', 'schemas');
const schema = JSON.parse(fs.readFileSync(path.join(dir, 'experiment.schema.json'), 'utf8'));
fs.writeFileSync(path.join(dir, 'experiment.editor.schema.json'), JSON.stringify(editorSchema(schema), null, 2) + '\n');
