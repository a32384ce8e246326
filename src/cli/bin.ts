#!/usr/bin/env node
import '../quiet-sdk-warning.js';
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
