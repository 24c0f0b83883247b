// Polynomial coefficients for core/sampling/vector_math.h's erf and erfc:
// Chebyshev interpolants (at n + 1 Chebyshev nodes, computed in 50-digit
// arithmetic with mpmath) converted to monomials in the scaled variable s = (x
// - Mid) / Half in [-1, 1]; lowest degree first. Each table states its
// function, interval and maximum relative interpolation error.
//   kErfSmall*: erf(sqrt(t)) / sqrt(t),              t = x^2 in [0, 1]
//   kErfcMid*:  exp(a^2) erfc(a),                    a in [1, 4] (F) / [1, 6]
//   (D) kErfcTail*: sqrt(pi) a exp(a^2) erfc(a),         t = 1 / a^2 in [0,
//   1/16] (F) / [0, 1/36] (D)
// F tables are used in float, D tables in double.
#ifndef NNFT_CORE_SAMPLING_VECTOR_MATH_COEFFICIENTS_H_
#define NNFT_CORE_SAMPLING_VECTOR_MATH_COEFFICIENTS_H_

namespace nnft::vmath::internal {

// kErfSmallF: interval [0, 1], degree 6, max rel. error 1.3e-9
inline constexpr double kErfSmallF[] = {
    9.65468738669867266e-01, -1.40536097277542682e-01,
    1.98524971409076156e-02, -2.28541954487284944e-03,
    2.17513541655825786e-04, -1.76690680261256969e-05,
    1.23060547854460755e-06,
};
inline constexpr double kErfSmallFMid = 5.00000000000000000e-01,
                        kErfSmallFHalf = 5.00000000000000000e-01;
// kErfSmallD: interval [0, 1], degree 11, max rel. error 8.1e-18
inline constexpr double kErfSmallD[] = {
    9.65468738669867266e-01, -1.40536089022717109e-01,
    1.98524966889842176e-02, -2.28548556114408549e-03,
    2.17517156035634877e-04, -1.75371694412801985e-05,
    1.22338276380935719e-06, -7.51156925108609000e-08,
    4.11575150026588526e-09, -2.03523195648352696e-10,
    9.21125018742823043e-12, -3.80659122412213987e-13,
};
inline constexpr double kErfSmallDMid = 5.00000000000000000e-01,
                        kErfSmallDHalf = 5.00000000000000000e-01;
// kErfcMidF: interval [1, 4], degree 11, max rel. error 3.4e-8
inline constexpr double kErfcMidF[] = {
    2.10806357743136386e-01, -1.11521017937231126e-01,
    5.61109475569720184e-02, -2.70054582128345863e-02,
    1.24841231485336088e-02, -5.56883764557017814e-03,
    2.42563893795781334e-03, -1.01366259812743931e-03,
    3.68151097857374974e-04, -1.47416142935491283e-04,
    9.62912019546398367e-05, -3.56641787689952492e-05,
};
inline constexpr double kErfcMidFMid = 2.50000000000000000e+00,
                        kErfcMidFHalf = 1.50000000000000000e+00;
// kErfcMidD: interval [1, 6], degree 27, max rel. error 1.9e-16
inline constexpr double kErfcMidD[] = {
    1.55293655608894271e-01,  -1.03308944583131224e-01,
    6.66320824532006112e-02,  -4.17667881194359533e-02,
    2.54955596430900232e-02,  -1.51825115453546461e-02,
    8.83342393210025806e-03,  -5.02806797549899993e-03,
    2.80332597809912661e-03,  -1.53251561943798585e-03,
    8.22256907771975695e-04,  -4.33362441809972900e-04,
    2.24521485366936733e-04,  -1.14438647029347409e-04,
    5.74499768046701952e-05,  -2.83897902332276622e-05,
    1.37509483406341104e-05,  -6.60903631653065235e-06,
    3.26347148124082328e-06,  -1.51892966230165935e-06,
    5.40741480911724220e-07,  -2.53102712111699930e-07,
    2.47714084243387484e-07,  -1.06400332051717767e-07,
    -2.59457525565207964e-08, 9.92941359796676384e-09,
    1.90632103112893702e-08,  -7.91609356251828876e-09,
};
inline constexpr double kErfcMidDMid = 3.50000000000000000e+00,
                        kErfcMidDHalf = 2.50000000000000000e+00;
// kErfcTailF: interval [0, 0.0625], degree 5, max rel. error 1.8e-9
inline constexpr double kErfcTailF[] = {
    9.85055707561025229e-01, -1.43104472793193389e-02,
    5.91258389226079206e-04, -3.87438479182842222e-05,
    3.46499502205525981e-06, -3.76170413821034305e-07,
};
inline constexpr double kErfcTailFMid = 3.12500000000000000e-02,
                        kErfcTailFHalf = 3.12500000000000000e-02;
// kErfcTailD: interval [0, 0.0277778], degree 9, max rel. error 9.6e-17
inline constexpr double kErfcTailD[] = {
    9.93195438016430177e-01, -6.66925619118421877e-03,
    1.30933617500030101e-04, -4.17915076632532255e-06,
    1.82322892283214243e-07, -9.99248740041359619e-09,
    6.54410572889669312e-10, -4.95640952857300650e-11,
    4.34953811629924720e-12, -4.15227870146164471e-13,
};
inline constexpr double kErfcTailDMid = 1.38888888888888881e-02,
                        kErfcTailDHalf = 1.38888888888888881e-02;
// kErfFastSmallF: interval [0, 4], degree 9, max rel. error 8.9e-9
inline constexpr double kErfFastSmallF[] = {
    6.74933241183194310e-01, -2.61111861764513675e-01,
    1.19478881558085503e-01, -4.86627358032716631e-02,
    1.71303957300287212e-02, -5.23520826721878343e-03,
    1.39938062310140097e-03, -3.34217271190784607e-04,
    7.82454370186764760e-05, -1.49933357375902410e-05,
};
inline constexpr double kErfFastSmallFMid = 2.00000000000000000e+00,
                        kErfFastSmallFHalf = 2.00000000000000000e+00;
// kErfFastTailF: interval [2, 4], degree 10, max abs. error 1.0e-8
inline constexpr double kErfFastTailF[] = {
    2.20904969985854412e-05,  -1.39148191206543047e-04,
    4.17740052690713441e-04,  -7.91203274469543427e-04,
    1.04478481469232011e-03,  -1.00469556534476287e-03,
    7.35804327893998904e-04,  -4.17997652398792137e-04,
    1.40213024808450495e-04,  1.41759684181044450e-05,
    -2.17562143121387444e-05,
};
inline constexpr double kErfFastTailFMid = 3.00000000000000000e+00,
                        kErfFastTailFHalf = 1.00000000000000000e+00;

}  // namespace nnft::vmath::internal

#endif  // NNFT_CORE_SAMPLING_VECTOR_MATH_COEFFICIENTS_H_
