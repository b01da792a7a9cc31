// What a call throws, as name, code and message, for comparing iothts's errors with Node's own.
export type Thrown = { name: string; code?: string; message: string } | 'nothing thrown';

export function thrown(fn: () => unknown): Thrown {
  try {
    fn();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { name: err.name, code: err.code, message: err.message };
  }
  return 'nothing thrown';
}
