/**
The shape the code keeps (issue 15): no import cycles, the AWS SDK only inside the
S3 store, config free of the commands it configures, and long modules only with a
reason written at their top. Read from the sources, so a change that breaks a rule
fails here instead of in review.
*/
import {readdir, readFile} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import test from 'ava';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');

type Module = {readonly file: string; readonly text: string; readonly imports: readonly string[]};

async function sourceFiles(dir: string): Promise<string[]> {
	const entries = await readdir(dir, {withFileTypes: true});
	const nested = await Promise.all(
		entries.map((entry) => {
			const full = path.join(dir, entry.name);
			return entry.isDirectory() ? sourceFiles(full) : Promise.resolve(full.endsWith('.ts') ? [full] : []);
		}),
	);
	return nested.flat();
}

/** Every module of src/ with what it imports: relative imports resolved to files, packages by name. */
async function modules(): Promise<Map<string, Module>> {
	const files = await sourceFiles(src);
	const found = new Map<string, Module>();
	for (const file of files) {
		const text = await readFile(file, 'utf8');
		const specifiers = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)'([^']+)'/gm)].map(
			(match) => match[1] as string,
		);
		const imports = specifiers.map((specifier) =>
			specifier.startsWith('.')
				? path.relative(src, path.resolve(path.dirname(file), specifier.replace(/\.js$/, '.ts')))
				: specifier,
		);
		const name = path.relative(src, file);
		found.set(name, {file: name, text, imports});
	}

	return found;
}

/** The import cycles among `graph`'s modules, each as the list of modules on it. */
function cycles(graph: Map<string, Module>): string[][] {
	const found: string[][] = [];
	const state = new Map<string, 'open' | 'done'>();
	const stack: string[] = [];
	const visit = (name: string) => {
		state.set(name, 'open');
		stack.push(name);
		for (const next of graph.get(name)?.imports ?? []) {
			if (!graph.has(next)) {
				continue;
			}

			if (state.get(next) === 'open') {
				found.push([...stack.slice(stack.indexOf(next)), next]);
			} else if (!state.has(next)) {
				visit(next);
			}
		}

		stack.pop();
		state.set(name, 'done');
	};

	for (const name of graph.keys()) {
		if (!state.has(name)) {
			visit(name);
		}
	}

	return found;
}

test('no import cycles in src/ (type-only imports included)', async (t) => {
	const graph = await modules();
	t.true(graph.size > 50, 'the sources were found');
	t.deepEqual(
		cycles(graph).map((cycle) => cycle.join(' -> ')),
		[],
	);
});

test('the cycle finder finds a cycle', (t) => {
	const graph = new Map<string, Module>([
		['a.ts', {file: 'a.ts', text: '', imports: ['b.ts']}],
		['b.ts', {file: 'b.ts', text: '', imports: ['c.ts', 'node:fs']}],
		['c.ts', {file: 'c.ts', text: '', imports: ['a.ts']}],
	]);
	t.deepEqual(cycles(graph), [['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
});

test('only src/store/s3/ imports the AWS SDK', async (t) => {
	const offenders = [...(await modules()).values()]
		.filter((module) => module.imports.some((name) => name.startsWith('@aws-sdk/')))
		.map((module) => module.file)
		.filter((file) => !file.startsWith(`store${path.sep}s3${path.sep}`));
	t.deepEqual(offenders, []);
});

test('config imports no command, collection, server or maintenance module', async (t) => {
	// The HTTP client's and the store's option types are config's vocabulary, not commands.
	const forbidden = ['agent', 'bundle', 'maintain', 'server', 'cli', 'mirror'].map(
		(room) => `${room}${path.sep}`,
	);
	// The catalogue of products and platforms is data that flags are checked against.
	const allowed = new Set([
		path.join('agent', 'catalog.ts'),
		path.join('packages', 'catalog.ts'),
		path.join('defend', 'catalog.ts'),
	]);
	const offenders = [...(await modules()).values()]
		.filter((module) => module.file.startsWith(`config${path.sep}`))
		.flatMap((module) =>
			module.imports
				.filter((name) => forbidden.some((room) => name.startsWith(room)) && !allowed.has(name))
				.map((name) => `${module.file} imports ${name}`),
		);
	t.deepEqual(offenders, []);
});

test('a module over 300 lines says why at its top', async (t) => {
	const unexplained = [...(await modules()).values()]
		.filter((module) => module.text.split('\n').length > 300)
		.filter(
			(module) =>
				!/^\/\*\*[\s\S]*?\b(?:over|more than|longer than) 300 lines\b[\s\S]*?\*\//i.test(module.text),
		)
		.map((module) => `${module.file}: ${module.text.split('\n').length} lines`);
	t.deepEqual(unexplained, []);
});
