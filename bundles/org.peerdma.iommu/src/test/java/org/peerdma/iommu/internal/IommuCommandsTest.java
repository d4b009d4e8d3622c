package org.peerdma.iommu.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;

class IommuCommandsTest {
    @Test
    void identityTakesTrueOrFalseAndNothingElse() {
        assertThat(IommuCommands.bool("true")).isTrue();
        assertThat(IommuCommands.bool("ON")).isTrue();
        assertThat(IommuCommands.bool("1")).isTrue();
        assertThat(IommuCommands.bool("false")).isFalse();
        assertThat(IommuCommands.bool("off")).isFalse();
        assertThat(IommuCommands.bool("0")).isFalse();
        for (String bad : new String[] {"maybe", "", "2", "truee"}) {
            assertThatThrownBy(() -> IommuCommands.bool(bad))
                    .satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.EINVAL))
                    .hasMessageContaining("is not true or false");
        }
    }
}
