/** The explicit oclif command map (faster start-up than directory scanning). */
import Doctor from './doctor.js';
import GenAdapter from './gen/adapter.js';
import GenTypes from './gen/types.js';
import ProfileInspector from './profile-inspector.js';
import Run from './run.js';
import Setup from './setup.js';
import Status from './status.js';

export const COMMANDS = { run: Run, setup: Setup, doctor: Doctor, 'gen:adapter': GenAdapter, 'gen:types': GenTypes, 'profile-inspector': ProfileInspector, status: Status };
