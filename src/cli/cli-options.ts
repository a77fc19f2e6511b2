export { EXIT_CODES_EPILOGUE } from './flags';
