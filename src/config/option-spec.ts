export {
  checkOption,
  OPTION_SPECS,
  type OptionName,
  type OptionSpec,
  optionOrDefault,
  optionProblem,
  parseOption,
  SCHEMA_OPTION,
  schemaNameProblem,
} from '../options';
