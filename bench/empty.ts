// Nothing: the native side of the startup case runs `node --import` of this file, so that both sides
// load Node's ESM loader for --import and the difference is the hook's alone.
export {};
