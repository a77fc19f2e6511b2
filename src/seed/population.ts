import { POPULATION } from './seed-proportions';

/** How many people a seed of a given size has. */
export interface Population {
  patients: number;
  therapists: number;
}

/**
 * The patients and therapists behind `sessions` sessions: about
 * {@link POPULATION.sessionsPerPatient} sessions per patient and
 * {@link POPULATION.patientsPerTherapist} patients per therapist, at least one of each.
 */
export function planPopulation(sessions: number): Population {
  const patients = Math.max(1, Math.round(sessions / POPULATION.sessionsPerPatient));
  const therapists = Math.max(1, Math.ceil(patients / POPULATION.patientsPerTherapist));
  return { patients, therapists };
}
