import { percent, range, signed, signedPercent } from '../src/format';

describe('signed', () => {
  it('writes one sign before the magnitude, the unit after it', () => {
    expect(signed(-15.46, ' ms')).toBe('-15.5 ms');
    expect(signed(6.5, ' ms')).toBe('+6.5 ms');
    expect(signed(154)).toBe('+154');
    expect(signed(-0.3, '%')).toBe('-0.3%');
  });

  it('writes a difference that rounds to nothing as ±0', () => {
    expect(signed(0.04, ' ms')).toBe('±0 ms');
    expect(signed(-0.04)).toBe('±0');
  });
});

describe('percentages and ranges', () => {
  it('turn shares into percentages, with or without a sign', () => {
    expect(percent(0.1234)).toBe('12.3%');
    expect(signedPercent(-0.031)).toBe('-3.1%');
    expect(signedPercent(0.212)).toBe('+21.2%');
  });

  it('write the spread of rounds as min-max, or one figure when they agree', () => {
    expect(range(630.04, 670.46)).toBe('630-670.5');
    expect(range(12, 12.01)).toBe('12');
  });
});
