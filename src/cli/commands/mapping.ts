/**
 * `sluice mapping compile [INSTANCE] [--dir mappings]`: regenerate mappings/<instance>.xsl from
 * mappings/<instance>.json (every instance when none is named). Invalid documents are listed
 * problem by problem and the command fails with MAPPING_INVALID.
 */
import type { Command } from 'commander';
import { compileMappings } from '../../formats/mapping-files.js';

export interface MappingCommandOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processOutput: MappingCommandOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export function registerMappingCommand(program: Command, output: MappingCommandOutput = processOutput): Command {
  const mapping = program.command('mapping').description('per-instance value mappings (mappings/<instance>.json)');
  mapping
    .command('compile')
    .description('generate mappings/<instance>.xsl from mappings/<instance>.json')
    .argument('[instance]', 'the instance to compile; all instances when left out')
    .option('--dir <dir>', 'folder holding the mapping documents', 'mappings')
    .action(async (instance: string | undefined, options: { dir: string }) => {
      // Failures (MAPPING_INVALID with its problems listed) are reported once, by main.ts.
      const results = await compileMappings(options.dir, instance);
      if (results.length === 0) output.stdout(`No mapping documents in ${options.dir}\n`);
      for (const result of results) {
        output.stdout(`${result.changed ? 'compiled' : 'unchanged'} ${result.xslPath}\n`);
      }
    });
  return mapping;
}
