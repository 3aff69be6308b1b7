#!/usr/bin/env node
import { execute, settings } from '@oclif/core';

// Always the compiled commands: oclif would load src/*.ts under NODE_ENV=development|test (natively on
// Node >= 22.18), and a `snakepit run` script importing 'snakepit' (dist/) would then meet a second copy
// of the engine (its Tensor and Table classes are not the engine's).
settings.enableAutoTranspile = false;

await execute({ dir: import.meta.url });
