// Linear algebra in float64: dense factorisations (Cholesky, triangular solves,
// symmetric eigendecomposition, QR, SVD) and sparse CSR matrices.
export { Matrix, type MatrixInput } from "./matrix.js";
export {
  cholesky,
  choleskySolve,
  eigh,
  qr,
  solveTriangular,
  svd,
  NotPositiveDefiniteError,
  type EighResult,
  type QrResult,
  type SolveTriangularOptions,
  type SvdResult,
} from "./dense.js";
export { SparseMatrix, type SparseOptions, type Triplet, type TripletArrays } from "./sparse.js";
